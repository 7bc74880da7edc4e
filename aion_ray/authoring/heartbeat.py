"""``aion.heartbeat(details)``: a long activity says it is alive, and how far it got.

Inside an activity attempt, each call is sent to the workflow's host (throttled: at most one
per ``interval`` seconds, the first always); the host records it as ``ActivityHeartbeat`` and
restarts the attempt's ``heartbeat_timeout``. An attempt that stays silent longer than that
is cancelled and fails with ``HeartbeatTimeout`` (retried per its RetryPolicy). Outside an
activity, a heartbeat does nothing, so activities stay callable as plain functions.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

Sink = Callable[[Any], None]
_SINK: ContextVar[Sink | None] = ContextVar("aion_heartbeat_sink", default=None)
DEFAULT_INTERVAL = 1.0


def heartbeat(details: Any = None) -> None:
    """Report that the running activity is alive; ``details`` (JSON-encodable) is recorded."""
    sink = _SINK.get()
    if sink is not None:
        sink(details)


def interval_for(heartbeat_timeout: float | None) -> float:
    """How often heartbeats are sent: often enough to beat the timeout three times over."""
    if heartbeat_timeout is None:
        return DEFAULT_INTERVAL
    return min(DEFAULT_INTERVAL, heartbeat_timeout / 3)


class Throttle:
    """Passes one call per ``interval`` seconds to ``send`` (the first always)."""

    def __init__(self, interval: float, send: Sink) -> None:
        self.interval = interval
        self.send = send
        self._last: float | None = None

    def __call__(self, details: Any) -> None:
        now = time.monotonic()
        if self._last is None or now - self._last >= self.interval:
            self._last = now
            self.send(details)


@contextlib.contextmanager
def heartbeats_to(sink: Sink | None) -> Iterator[None]:
    """Route ``heartbeat`` calls made in this context (an activity attempt) to ``sink``."""
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)
