"""The checks and shapes of a schedule's verbs, shared by every host: a create's id, spec and
workflow, a pause's note, a backfill's range, an update's merged spec, and the search
attributes a tick's run carries. Bad input raises a typed error before anything is stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.control.schedules.times import ticks_between
from aion_ray.errors import InvalidInputError, ScheduleSpecError
from aion_ray.model.event_base import SearchAttributeValue
from aion_ray.model.ids import validate_workflow_id
from aion_ray.model.schedule import (
    MAX_NOTE_LENGTH,
    SCHEDULE_ATTRIBUTE,
    SCHEDULED_TIME_ATTRIBUTE,
    ScheduleSpec,
    checked_schedule_id,
    schedule_spec,
)
from aion_ray.model.schedule_state import ScheduleRun, StoredSchedule

MAX_BACKFILL_TICKS = 10_000
"""The most ticks one ``backfill`` decides (a larger range is a mistake, or several calls)."""


def checked_create(
    schedule_id: object, workflow: object, options: dict[str, Any]
) -> tuple[str, ScheduleSpec]:
    """The id and spec of a create; ScheduleSpecError names what cannot work."""
    checked_id = checked_schedule_id(schedule_id)
    spec = schedule_spec(**options)
    if not isinstance(workflow, WorkflowDefinition):
        raise ScheduleSpecError(f"a schedule runs a @workflow, got {workflow!r:.80}")
    try:
        validate_workflow_id(f"{checked_id}@2000-01-01T00:00:00.000000Z")
    except InvalidInputError as exc:
        raise ScheduleSpecError(str(exc)) from None
    return checked_id, spec


def checked_note(note: object) -> str:
    if not isinstance(note, str) or len(note) > MAX_NOTE_LENGTH:
        raise ScheduleSpecError(f"note must be a str of at most {MAX_NOTE_LENGTH} characters")
    return note


def backfill_ticks(spec: ScheduleSpec, start: object, end: object) -> list[datetime]:
    """The ticks of ``spec`` in ``[start, end]``; InvalidInputError for a bad range."""
    start, end = _aware("start", start), _aware("end", end)
    if end < start:
        raise InvalidInputError(f"backfill end {end} is before its start {start}")
    ticks = ticks_between(spec, start, end)
    if len(ticks) > MAX_BACKFILL_TICKS:
        raise InvalidInputError(
            f"backfill covers {len(ticks)} ticks; at most {MAX_BACKFILL_TICKS} at a time"
        )
    return ticks


def updated_spec(current: ScheduleSpec, changes: dict[str, Any]) -> ScheduleSpec:
    """``current`` with ``changes`` (spec field names); the others keep their values. Naming
    ``cron`` drops ``every`` and the other way round."""
    options = {**current.model_dump(), **changes}
    if options["every"] is not None and changes.get("cron") is not None:
        options["every"] = None  # switching to cron
    if options["cron"] is not None and changes.get("every") is not None:
        options["cron"] = None
    return schedule_spec(**options)


def tick_attributes(schedule: StoredSchedule, run: ScheduleRun) -> dict[str, SearchAttributeValue]:
    """The search attributes of a tick's run: the spec's, the schedule id, the tick (UTC)."""
    return {
        **schedule.spec.search_attributes,
        SCHEDULE_ATTRIBUTE: schedule.schedule_id,
        SCHEDULED_TIME_ATTRIBUTE: run.scheduled_at.astimezone(UTC).isoformat(),
    }


def _aware(name: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInputError(f"backfill {name} must be an aware datetime: {value!r:.80}")
    return value
