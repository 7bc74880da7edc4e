"""TestScheduleHandle: a schedule of the TestEngine, with the verbs of the real client's
ScheduleHandle (describe, pause, unpause, trigger, backfill, update, delete)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from aion_ray.control.schedules import lifecycle, plan
from aion_ray.control.schedules.requests import backfill_ticks, checked_note, updated_spec
from aion_ray.model.schedule_state import ScheduleDescription, StoredSchedule

if TYPE_CHECKING:
    from aion_ray.testing.schedules import EngineSchedules


class TestScheduleHandle:
    """A schedule in the TestEngine. Every verb raises ScheduleNotFoundError once the
    schedule is deleted; bad input raises a typed error and changes nothing."""

    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, schedules: EngineSchedules, schedule_id: str) -> None:
        self._schedules = schedules
        self.schedule_id = schedule_id

    def describe(self) -> ScheduleDescription:
        """The spec, paused and its note, the next fire times, recent runs with their
        status as of now, buffered, missed and skipped ticks."""
        schedules = self._schedules
        current = plan.refreshed(self._stored(), schedules.now, schedules.status_of)
        return lifecycle.described(current, schedules.now)

    def pause(self, note: str = "") -> None:
        """Stop firing (ticks while paused are neither run nor counted missed)."""
        checked_note(note)
        self._schedules.store(lifecycle.paused(self._stored(), note, self._schedules.now))

    def unpause(self) -> None:
        """Fire again from now on."""
        self._schedules.store(lifecycle.unpaused(self._stored(), self._schedules.now))

    def trigger(self) -> None:
        """One run now, under the overlap policy, even while paused."""
        schedules = self._schedules
        schedules.take(plan.trigger(self._stored(), schedules.now, schedules.status_of))

    def backfill(self, start: datetime, end: datetime) -> None:
        """Decide the ticks in ``[start, end]`` under the overlap policy, as if they were
        due now (no catch-up window applies)."""
        schedule, schedules = self._stored(), self._schedules
        ticks = backfill_ticks(schedule.spec, start, end)
        schedules.take(
            plan.decide_ticks(schedule, ticks, "backfill", schedules.now, schedules.status_of)
        )

    def update(self, **changes: Any) -> None:
        """Change spec fields (the options of ``TestEngine.schedule``); the others keep their
        values. The next ticks are the new spec's, from now on."""
        current = self._stored()
        spec = updated_spec(current.spec, changes)
        self._schedules.store(lifecycle.updated(current, spec, self._schedules.now))

    def delete(self) -> None:
        """Remove the schedule; its runs go on."""
        self._schedules.delete(self.schedule_id)

    def _stored(self) -> StoredSchedule:
        return self._schedules.get(self.schedule_id)

    def __repr__(self) -> str:
        return f"TestScheduleHandle({self.schedule_id!r})"
