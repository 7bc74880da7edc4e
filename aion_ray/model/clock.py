"""Clock: the one place in the core that reads wall time.

Workflow code never reads it: workflows see recorded time (``ctx.now()``). The engine reads it
to stamp events and to decide when timers are due; tests swap in ``aion_ray.testing.FakeClock``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """A source of the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The wall clock, in UTC, with microsecond precision."""

    def now(self) -> datetime:
        return datetime.now(UTC)


def epoch_millis(clock: Clock) -> int:
    """Milliseconds since the Unix epoch according to ``clock``."""
    return int(clock.now().timestamp() * 1000)


def monotonic() -> float:
    """Seconds on a monotonic clock, for measuring durations (never for recorded time)."""
    return time.monotonic()
