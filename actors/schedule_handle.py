"""ScheduleHandle: a schedule on Ray, with the verbs of the TestEngine's TestScheduleHandle
(describe, pause, unpause, trigger, backfill, update, delete) and ``_async`` twins. Each
verb is a call to the registry, which owns the schedules (``control.schedules.scheduler``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aion_ray.actors.stubs import RegistryStub
from aion_ray.control.schedules.requests import checked_note
from aion_ray.model.schedule_state import ScheduleDescription


class ScheduleHandle:
    """A schedule of the engine. Every verb raises ScheduleNotFoundError once the schedule
    is deleted; bad input raises a typed error (InvalidInputError or ScheduleSpecError) and
    changes nothing."""

    def __init__(self, registry: RegistryStub, schedule_id: str) -> None:
        self._registry = registry
        self.schedule_id = schedule_id

    def describe(self) -> ScheduleDescription:
        """The spec, paused and its note, the next fire times, recent runs with their
        status as of now, buffered, missed and skipped ticks."""
        description: ScheduleDescription = self._registry.schedule(
            "describe", self.schedule_id
        ).get()
        return description

    async def describe_async(self) -> ScheduleDescription:
        description: ScheduleDescription = await self._registry.schedule(
            "describe", self.schedule_id
        )
        return description

    def pause(self, note: str = "") -> None:
        """Stop firing (ticks while paused are neither run nor counted missed)."""
        self._registry.schedule("pause", self.schedule_id, checked_note(note)).get()

    async def pause_async(self, note: str = "") -> None:
        await self._registry.schedule("pause", self.schedule_id, checked_note(note))

    def unpause(self) -> None:
        """Fire again from now on."""
        self._registry.schedule("unpause", self.schedule_id).get()

    async def unpause_async(self) -> None:
        await self._registry.schedule("unpause", self.schedule_id)

    def trigger(self) -> None:
        """One run now, under the overlap policy, even while paused."""
        self._registry.schedule("trigger", self.schedule_id, once=True).get()

    async def trigger_async(self) -> None:
        await self._registry.schedule("trigger", self.schedule_id, once=True)

    def backfill(self, start: datetime, end: datetime) -> None:
        """Decide the ticks in ``[start, end]`` under the overlap policy, as if they were
        due now (no catch-up window applies; a tick run already is not run again)."""
        self._registry.schedule("backfill", self.schedule_id, start, end).get()

    async def backfill_async(self, start: datetime, end: datetime) -> None:
        await self._registry.schedule("backfill", self.schedule_id, start, end)

    def update(self, **changes: Any) -> None:
        """Change spec fields (the options of ``client.schedule``); the others keep their
        values. The next ticks are the new spec's, from now on."""
        self._registry.schedule("update", self.schedule_id, changes).get()

    async def update_async(self, **changes: Any) -> None:
        await self._registry.schedule("update", self.schedule_id, changes)

    def delete(self) -> None:
        """Remove the schedule; its runs go on."""
        self._registry.schedule("delete", self.schedule_id, once=True).get()

    async def delete_async(self) -> None:
        await self._registry.schedule("delete", self.schedule_id, once=True)

    def __repr__(self) -> str:
        return f"ScheduleHandle({self.schedule_id!r})"
