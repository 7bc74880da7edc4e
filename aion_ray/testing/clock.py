"""FakeClock: time that only moves when told, so tests skip over long sleeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aion_ray.errors import InvalidInputError

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClock:
    """A Clock whose ``now`` moves forward only through ``advance`` or ``set``."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        if start.tzinfo is None:
            raise InvalidInputError("FakeClock needs an aware datetime (e.g. tzinfo=UTC)")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, by: float | timedelta) -> datetime:
        delta = by if isinstance(by, timedelta) else timedelta(seconds=by)
        if delta < timedelta(0):
            raise InvalidInputError(f"time cannot go backwards (advance by {delta})")
        self._now += delta
        return self._now

    def set(self, to: datetime) -> datetime:
        """Move to ``to`` if it is later than now (earlier times leave the clock alone)."""
        self._now = max(self._now, to.astimezone(UTC))
        return self._now
