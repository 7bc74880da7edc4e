"""What a store keeps of a schedule (``StoredSchedule``: its action, spec and state), what
``describe()`` reports, and the store role that keeps them (``ScheduleTable``).

The state is the schedule's whole memory: the tick it has decided up to (``cursor``), the
next tick and when it fires (jitter included), the ticks buffered behind an open run, its
recent runs, and the ticks it missed (downtime beyond the catch-up window) or skipped (the
overlap policy). A host recomputes everything else from the spec.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from aion_ray.model.event_base import UtcDatetime
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.payload import Payload
from aion_ray.model.schedule import ScheduleSpec

RECENT = 20
"""How many recent runs, missed and skipped tick times a schedule keeps (counts go on)."""

RunOrigin = Literal["tick", "trigger", "backfill"]


class ScheduleRun(BaseModel):
    """A run a schedule started: its workflow id, the tick it is for, its last known status
    (None until the store has seen its start), and whether its cancel was asked for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow_id: str
    scheduled_at: UtcDatetime
    started_at: UtcDatetime
    origin: RunOrigin = "tick"
    status: WorkflowStatus | None = WorkflowStatus.RUNNING
    cancelling: bool = False

    @property
    def is_open(self) -> bool:
        return self.status is None or not self.status.is_terminal


class ScheduleState(BaseModel):
    """The moving part of a schedule; see the module docstring."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cursor: UtcDatetime
    """Every tick at or before this time has been decided (run, buffered, skipped, missed)."""
    next_tick_at: UtcDatetime | None = None
    """The next tick the spec names after ``cursor`` (None: the spec has ended)."""
    next_fire_at: UtcDatetime | None = None
    """When that tick fires: ``next_tick_at`` plus its jitter."""
    last_tick_at: UtcDatetime | None = None
    buffered: tuple[UtcDatetime, ...] = ()
    recent_runs: tuple[ScheduleRun, ...] = ()
    missed: int = 0
    skipped: int = 0
    recent_missed: tuple[UtcDatetime, ...] = ()
    recent_skipped: tuple[UtcDatetime, ...] = ()

    @property
    def open_runs(self) -> list[str]:
        return [run.workflow_id for run in self.recent_runs if run.is_open]


class StoredSchedule(BaseModel):
    """A schedule as a store keeps it: what it starts, when, and where it stands."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schedule_id: str
    workflow_type: str
    input: Payload
    spec: ScheduleSpec
    state: ScheduleState
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ScheduleDescription(BaseModel):
    """What ``ScheduleHandle.describe()`` reports."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schedule_id: str
    workflow_type: str
    spec: ScheduleSpec
    paused: bool
    note: str
    next_fire_times: tuple[UtcDatetime, ...]
    recent_runs: tuple[ScheduleRun, ...]
    buffered: tuple[UtcDatetime, ...]
    missed: int
    skipped: int
    recent_missed: tuple[UtcDatetime, ...]
    recent_skipped: tuple[UtcDatetime, ...]


class ScheduleTable(Protocol):
    """The store role that keeps schedules (the ``schedules`` table, queryable by SQL).

    One writer at a time (the TestEngine, or the control plane on Ray) owns the schedules:
    ``put_schedule`` replaces the whole row, so concurrent writers would overwrite each other.
    Bad input raises InvalidInputError and writes nothing.
    """

    def put_schedule(self, schedule: StoredSchedule) -> None:
        """Insert ``schedule``, or replace the one stored under its id."""
        ...

    def put_schedules(self, schedules: Sequence[StoredSchedule]) -> None:
        """``put_schedule`` of each, all in one write (all or none)."""
        ...

    def get_schedule(self, schedule_id: str) -> StoredSchedule | None:
        """The schedule stored under ``schedule_id``, or None."""
        ...

    def list_schedules(
        self, *, after: str | None = None, limit: int | None = None
    ) -> list[StoredSchedule]:
        """Schedules by id: ids greater than ``after``, at most ``limit`` of them."""
        ...

    def due_schedules(self, as_of: datetime, *, limit: int = 1000) -> list[StoredSchedule]:
        """Unpaused schedules whose next tick fires at or before ``as_of``, or that hold
        buffered ticks, earliest first."""
        ...

    def delete_schedule(self, schedule_id: str) -> bool:
        """Remove a schedule (its runs stay); whether there was one."""
        ...
