"""The checks and time arithmetic of WorkflowHandle's calls (kept apart to keep it small)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from aion_ray.engine.results import LONGEST_WAIT
from aion_ray.errors import InvalidInputError
from aion_ray.model.payload import Payload, encode


def checked_timeout(timeout: object) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0:
        raise InvalidInputError(f"timeout must be None or seconds >= 0, got {timeout!r}")
    return float(timeout)


def within_host_wait(timeout: float | None) -> bool:
    """Whether a host's wait of ``timeout`` covered all of it (it holds one LONGEST_WAIT)."""
    return timeout is not None and timeout <= LONGEST_WAIT


def time_left(timeout: float | None, began: float) -> float | None:
    return None if timeout is None else max(0.0, timeout - (time.monotonic() - began))


def check_name(name: object, what: str) -> None:
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"{what} must be a non-empty str, got {name!r}")


def signal_args(
    workflow_id: str, name: object, payload: Any, max_bytes: int
) -> tuple[str, str, Payload, str]:
    """A signal's arguments to a host or the registry: checked, encoded, and with a request
    id of its own, so that a call the registry retries is recorded once."""
    check_name(name, "signal name")
    assert isinstance(name, str)
    encoded = encode(payload, max_bytes=max_bytes, what=f"signal {name!r}")
    return workflow_id, name, encoded, uuid.uuid4().hex
