"""The checks and time arithmetic of WorkflowHandle's calls (kept apart to keep it small)."""

from __future__ import annotations

import time

from aion_ray.engine.results import LONGEST_WAIT
from aion_ray.errors import InvalidInputError


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
