"""ScheduleBook: the schedules of the one host that writes them, kept in memory.

A host (the TestEngine, the registry on Ray) is the one writer of its store's schedules, so
it reads them once (on start, or after a restart) and keeps them here: what is due, what
fires next and which schedules wait to release a buffered tick are answered without a store
call. The host stores a schedule first and keeps it here second, so a refused write changes
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from aion_ray.errors import ScheduleNotFoundError
from aion_ray.model.schedule_state import StoredSchedule


class ScheduleBook:
    """A host's schedules by id; see the module docstring."""

    def __init__(self, schedules: Iterable[StoredSchedule] = ()) -> None:
        self._schedules = {s.schedule_id: s for s in schedules}

    def __len__(self) -> int:
        return len(self._schedules)

    def find(self, schedule_id: str) -> StoredSchedule | None:
        return self._schedules.get(schedule_id)

    def get(self, schedule_id: str) -> StoredSchedule:
        """The schedule ``schedule_id``; ScheduleNotFoundError if there is none."""
        found = self._schedules.get(schedule_id)
        if found is None:
            raise ScheduleNotFoundError(f"schedule {schedule_id!r} not found")
        return found

    def ids(self) -> list[str]:
        return sorted(self._schedules)

    def kept(self, schedule: StoredSchedule) -> None:
        """``schedule`` was stored: keep it (replacing the one under its id)."""
        self._schedules[schedule.schedule_id] = schedule

    def dropped(self, schedule_id: str) -> None:
        self._schedules.pop(schedule_id, None)

    def next_due(self) -> datetime | None:
        """The earliest fire time of an unpaused schedule (None: none will fire)."""
        return min(
            (
                s.state.next_fire_at
                for s in self._schedules.values()
                if s.state.next_fire_at is not None and not s.spec.paused
            ),
            default=None,
        )

    def due(self, now: datetime) -> list[StoredSchedule]:
        """The unpaused schedules whose next tick fires at or before ``now``, by id."""
        return sorted(
            (s for s in self._schedules.values() if is_due(s, now)), key=lambda s: s.schedule_id
        )

    def waiting(self) -> list[StoredSchedule]:
        """The schedules holding buffered ticks (a run's end may release one), by id."""
        return sorted(
            (s for s in self._schedules.values() if s.state.buffered),
            key=lambda s: s.schedule_id,
        )


def is_due(schedule: StoredSchedule, now: datetime) -> bool:
    """Whether ``schedule`` is unpaused and its next tick fires at or before ``now``."""
    fires = schedule.state.next_fire_at
    return not schedule.spec.paused and fires is not None and fires <= now
