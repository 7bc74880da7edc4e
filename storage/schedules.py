"""The schedules role's rules, shared by both stores: argument checks, the row a schedule is
stored as, and the in-memory table of the reference store.

A row (the ``schedules`` table, see ``storage.schema``) spreads what SQL users ask about into
columns (paused and its note, the next fire time, the last tick, buffered, missed and
skipped counts) and keeps the whole spec, state and input as JSON, which is what a schedule
is read back from.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from aion_ray.errors import InvalidInputError
from aion_ray.model.payload import Payload
from aion_ray.model.schedule import ScheduleSpec
from aion_ray.model.schedule_state import ScheduleState, StoredSchedule
from aion_ray.storage.inputs import checked_time
from aion_ray.storage.schema import SCHEDULES_ARROW
from aion_ray.storage.suspensions import checked_page

MAX_SCHEDULE_ID_LENGTH = 1024


def checked_schedule(schedule: object) -> StoredSchedule:
    """``schedule`` if it is a StoredSchedule with a usable id; else InvalidInputError."""
    if not isinstance(schedule, StoredSchedule):
        raise InvalidInputError(f"expected a StoredSchedule, got {type(schedule).__name__}")
    checked_schedule_id(schedule.schedule_id)
    return schedule


def checked_schedule_id(schedule_id: object) -> str:
    if not isinstance(schedule_id, str):
        raise InvalidInputError(f"a schedule id must be a str, got {type(schedule_id).__name__}")
    if not schedule_id or schedule_id.strip() != schedule_id:
        raise InvalidInputError(f"schedule id {schedule_id!r} must be non-empty, no outer spaces")
    if len(schedule_id) > MAX_SCHEDULE_ID_LENGTH or not schedule_id.isprintable():
        raise InvalidInputError(
            f"schedule id {schedule_id[:80]!r} must be printable and at most "
            f"{MAX_SCHEDULE_ID_LENGTH} characters"
        )
    return schedule_id


def schedule_row(schedule: StoredSchedule) -> dict[str, Any]:
    """``schedule`` as a row of the ``schedules`` table (column name -> value)."""
    state, spec = schedule.state, schedule.spec
    return {
        "schedule_id": schedule.schedule_id,
        "workflow_type": schedule.workflow_type,
        "paused": spec.paused,
        "note": spec.note,
        "next_fire_at": state.next_fire_at,
        "last_tick_at": state.last_tick_at,
        "buffered": len(state.buffered),
        "missed": state.missed,
        "skipped": state.skipped,
        "spec": spec.model_dump_json(),
        "state": state.model_dump_json(),
        "input": schedule.input.model_dump_json(),
        "created_at": schedule.created_at,
        "updated_at": schedule.updated_at,
    }


def schedule_of(
    schedule_id: str,
    workflow_type: str,
    spec: str,
    state: str,
    payload: str,
    created_at: datetime,
    updated_at: datetime,
) -> StoredSchedule:
    """The schedule a row holds (its JSON columns and its identity)."""
    return StoredSchedule(
        schedule_id=schedule_id,
        workflow_type=workflow_type,
        input=Payload.model_validate_json(payload),
        spec=ScheduleSpec.model_validate_json(spec),
        state=ScheduleState.model_validate_json(state),
        created_at=created_at,
        updated_at=updated_at,
    )


def is_due(schedule: StoredSchedule, as_of: datetime) -> bool:
    """Whether an unpaused schedule fires by ``as_of`` or holds buffered ticks."""
    state = schedule.state
    fires = state.next_fire_at is not None and state.next_fire_at <= as_of
    return not schedule.spec.paused and (fires or bool(state.buffered))


def due_order(schedule: StoredSchedule) -> tuple[datetime, str]:
    return (schedule.state.next_fire_at or schedule.updated_at, schedule.schedule_id)


class InMemorySchedules:
    """The schedules role in a dict, under the owning store's lock and open check."""

    def __init__(self, lock: threading.RLock, check_open: Callable[[], None]) -> None:
        self._lock, self._check_open = lock, check_open
        self._rows: dict[str, StoredSchedule] = {}

    def put_schedule(self, schedule: StoredSchedule) -> None:
        self.put_schedules([schedule])

    def put_schedules(self, schedules: Sequence[StoredSchedule]) -> None:
        checked = [checked_schedule(s) for s in schedules]  # all checked before any is kept
        with self._lock:
            self._check_open()
            self._rows.update((s.schedule_id, s) for s in checked)

    def get_schedule(self, schedule_id: str) -> StoredSchedule | None:
        schedule_id = checked_schedule_id(schedule_id)
        with self._lock:
            self._check_open()
            return self._rows.get(schedule_id)

    def list_schedules(
        self, *, after: str | None = None, limit: int | None = None
    ) -> list[StoredSchedule]:
        after, limit = checked_page(after, limit)
        with self._lock:
            self._check_open()
            found = sorted(s for s in self._rows if after is None or s > after)
            return [self._rows[s] for s in found[:limit]]

    def due_schedules(self, as_of: datetime, *, limit: int = 1000) -> list[StoredSchedule]:
        as_of, limit = checked_time(as_of, limit)
        with self._lock:
            self._check_open()
            due = [s for s in self._rows.values() if is_due(s, as_of)]
        return sorted(due, key=due_order)[:limit]

    def delete_schedule(self, schedule_id: str) -> bool:
        schedule_id = checked_schedule_id(schedule_id)
        with self._lock:
            self._check_open()
            return self._rows.pop(schedule_id, None) is not None

    def tables(self) -> dict[str, pa.Table]:
        """The ``schedules`` table, for SQL."""
        with self._lock:
            rows = [schedule_row(self._rows[s]) for s in sorted(self._rows)]
        return {"schedules": pa.Table.from_pylist(rows, SCHEDULES_ARROW)}
