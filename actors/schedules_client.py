"""The client's schedule calls: ``Client.schedule`` / ``get_schedule`` / ``list_schedules``
and their ``_async`` twins are these functions (composed into ``Client`` by name, so the
client module stays about starting and finding workflows).

A create is checked here (the id, the spec, the workflow, the input) before anything is
sent: bad input raises ScheduleSpecError (or PayloadError) and stores nothing. The
workflow's code is kept with the store (once per code version per client, as for starts:
the registry loads it to start each tick's run, after a restart too), then the registry
creates the schedule, or finds the same one.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aion_ray.actors.schedule_handle import ScheduleHandle
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.control.schedules.requests import checked_create
from aion_ray.engine.starts import encode_input
from aion_ray.model.event_base import SearchAttributeValue
from aion_ray.model.payload import Payload
from aion_ray.model.schedule import Overlap, ScheduleSpec, checked_schedule_id
from aion_ray.model.schedule_state import ScheduleDescription

if TYPE_CHECKING:
    from datetime import datetime

    from aion_ray.actors.client import Client


def schedule(
    self: Client,
    schedule_id: str,
    workflow: WorkflowDefinition[Any],
    arg: Any = None,
    *,
    every: timedelta | None = None,
    cron: str | None = None,
    timezone: str = "UTC",
    overlap: Overlap = "skip",
    catchup_window: timedelta = timedelta(minutes=1),
    jitter: timedelta | None = None,
    start_at: datetime | None = None,
    end_at: datetime | None = None,
    paused: bool = False,
    search_attributes: dict[str, SearchAttributeValue] | None = None,
) -> ScheduleHandle:
    """Create schedule ``schedule_id``: ``workflow(arg)`` at each tick of ``every`` (an
    interval, anchored at ``start_at`` or the Unix epoch) or ``cron`` (five fields, read in
    ``timezone``); ``overlap`` says what a tick does while a run is open, ``catchup_window``
    how late a tick missed during downtime may still run. Creating the same schedule again
    returns it; another spec under its id is refused. See ``aion.ScheduleSpec``."""
    options = _options(locals())
    checked_id, spec, payload = _checked(self, schedule_id, workflow, arg, options)
    self._starter._catalogue(workflow)
    self.registry.schedule("create", checked_id, workflow.name, payload, spec).get()
    return ScheduleHandle(self.registry, checked_id)


async def schedule_async(
    self: Client,
    schedule_id: str,
    workflow: WorkflowDefinition[Any],
    arg: Any = None,
    **options: Any,
) -> ScheduleHandle:
    """``schedule`` for asyncio (the same options)."""
    checked_id, spec, payload = _checked(self, schedule_id, workflow, arg, options)
    await asyncio.to_thread(self._starter._catalogue, workflow)
    await self.registry.schedule("create", checked_id, workflow.name, payload, spec)
    return ScheduleHandle(self.registry, checked_id)


def get_schedule(self: Client, schedule_id: str) -> ScheduleHandle:
    """A handle for schedule ``schedule_id``; ScheduleNotFoundError if there is none."""
    checked_id = checked_schedule_id(schedule_id)
    self.registry.schedule("describe", checked_id).get()
    return ScheduleHandle(self.registry, checked_id)


async def get_schedule_async(self: Client, schedule_id: str) -> ScheduleHandle:
    checked_id = checked_schedule_id(schedule_id)
    await self.registry.schedule("describe", checked_id)
    return ScheduleHandle(self.registry, checked_id)


def list_schedules(self: Client) -> list[ScheduleDescription]:
    """Every schedule, described, by id."""
    found: list[ScheduleDescription] = self.registry.schedule("list").get()
    return found


async def list_schedules_async(self: Client) -> list[ScheduleDescription]:
    found: list[ScheduleDescription] = await self.registry.schedule("list")
    return found


def _options(given: dict[str, Any]) -> dict[str, Any]:
    names = set(ScheduleSpec.model_fields) - {"note"}
    return {name: value for name, value in given.items() if name in names}


def _checked(
    client: Client,
    schedule_id: str,
    workflow: WorkflowDefinition[Any],
    arg: Any,
    options: dict[str, Any],
) -> tuple[str, ScheduleSpec, Payload]:
    checked_id, spec = checked_create(schedule_id, workflow, options)
    payload = encode_input(workflow, arg, client.config.max_payload_bytes)
    return checked_id, spec, payload
