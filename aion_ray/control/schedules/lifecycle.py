"""A schedule's life outside its ticks: created, paused, unpaused, updated, described.

Pure functions of a StoredSchedule and the time; the host stores what they return.
"""

from __future__ import annotations

from datetime import datetime

from aion_ray.control.schedules.times import next_fire_times, ticks_after
from aion_ray.errors import ScheduleSpecError
from aion_ray.model.payload import Payload
from aion_ray.model.schedule import ScheduleSpec
from aion_ray.model.schedule_state import ScheduleDescription, ScheduleState, StoredSchedule

PREVIEW = 5
"""How many next fire times ``describe`` shows."""


def new_schedule(
    schedule_id: str, workflow_type: str, payload: Payload, spec: ScheduleSpec, now: datetime
) -> StoredSchedule:
    """A schedule created at ``now``: its first tick is the first one after ``now`` (earlier
    ticks are a ``backfill``)."""
    state = _moved_to(ScheduleState(cursor=now), schedule_id, spec, now)
    return StoredSchedule(
        schedule_id=schedule_id,
        workflow_type=workflow_type,
        input=payload,
        spec=spec,
        state=state,
        created_at=now,
        updated_at=now,
    )


def created_or_same(
    existing: StoredSchedule | None,
    schedule_id: str,
    workflow_type: str,
    payload: Payload,
    spec: ScheduleSpec,
    now: datetime,
) -> StoredSchedule:
    """The schedule to keep for a create: ``existing`` if it is the same schedule (same
    workflow, input and spec, its pause state aside: creating is idempotent), a new one if
    there is none; ScheduleSpecError naming what differs if ``existing`` is another one."""
    if existing is None:
        return new_schedule(schedule_id, workflow_type, payload, spec, now)
    differences = [
        name
        for name, same in (
            ("workflow", existing.workflow_type == workflow_type),
            ("arg", existing.input == payload),
            ("spec", existing.spec.same_ticks(spec)),
        )
        if not same
    ]
    if differences:
        raise ScheduleSpecError(
            f"schedule {schedule_id!r} exists with another {' and '.join(differences)}: "
            "update() it, or delete() it first"
        )
    return existing


def paused(schedule: StoredSchedule, note: str, now: datetime) -> StoredSchedule:
    """``schedule`` paused with ``note``: no tick runs until it is unpaused."""
    spec = schedule.spec.model_copy(update={"paused": True, "note": note})
    return schedule.model_copy(update={"spec": spec, "updated_at": now})


def unpaused(schedule: StoredSchedule, now: datetime) -> StoredSchedule:
    """``schedule`` running again from ``now``: the ticks of the pause are neither run nor
    counted missed."""
    spec = schedule.spec.model_copy(update={"paused": False, "note": ""})
    return updated(schedule, spec, now)


def updated(schedule: StoredSchedule, spec: ScheduleSpec, now: datetime) -> StoredSchedule:
    """``schedule`` under ``spec`` from ``now`` on (its next ticks are the new spec's)."""
    state = _moved_to(schedule.state, schedule.schedule_id, spec, now)
    return schedule.model_copy(update={"spec": spec, "state": state, "updated_at": now})


def described(schedule: StoredSchedule, now: datetime) -> ScheduleDescription:
    """What ``describe()`` reports of ``schedule`` at ``now``."""
    state, spec = schedule.state, schedule.spec
    after = max(state.cursor, now) if spec.paused else state.cursor
    return ScheduleDescription(
        schedule_id=schedule.schedule_id,
        workflow_type=schedule.workflow_type,
        spec=spec,
        paused=spec.paused,
        note=spec.note,
        next_fire_times=tuple(next_fire_times(schedule.schedule_id, spec, after, PREVIEW)),
        recent_runs=state.recent_runs,
        buffered=state.buffered,
        missed=state.missed,
        skipped=state.skipped,
        recent_missed=state.recent_missed,
        recent_skipped=state.recent_skipped,
    )


def _moved_to(
    state: ScheduleState, schedule_id: str, spec: ScheduleSpec, now: datetime
) -> ScheduleState:
    cursor = max(state.cursor, now)
    tick = next(ticks_after(spec, cursor), None)
    fires = next_fire_times(schedule_id, spec, cursor, 1)
    return state.model_copy(
        update={"cursor": cursor, "next_tick_at": tick, "next_fire_at": fires[0] if fires else None}
    )
