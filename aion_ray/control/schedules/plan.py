"""How a schedule's stored state moves on: the pure steps a host takes on a clock's time.

``advance`` decides every tick that has fired by ``now`` (run it under the overlap policy,
or count it missed when it fired longer than ``catchup_window`` ago: downtime), ``trigger``
and ``backfill`` decide ticks the caller names (under the overlap policy, even while
paused). Each returns a ``Step``: the schedule to store and the runs to start, cancel and
terminate. The host performs the runs' verbs first and stores the schedule last: a start is
idempotent by its derived workflow id, and a tick whose run exists already is recognised
(``status_of``) and recorded rather than started again, so a step taken twice (a crash
between the two) starts nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from aion_ray.control.schedules.overlap import decide, may_release
from aion_ray.control.schedules.times import fire_time, tick_workflow_id, ticks_after
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.schedule_state import RECENT, RunOrigin, ScheduleRun, StoredSchedule

StatusOf = Callable[[str], WorkflowStatus | None]
"""The current status of a workflow id in the store, None if it never started."""

MAX_TICKS_PER_STEP = 10_000
"""Ticks one ``advance`` decides at most (a host advances again while the schedule is due):
a minutely schedule back from a week of downtime costs a few steps, not one huge one."""


@dataclass(frozen=True)
class Step:
    """The schedule to store and the runs to act on (start first what ``starts`` names,
    after cancelling and terminating what the others name)."""

    schedule: StoredSchedule
    starts: tuple[ScheduleRun, ...] = ()
    cancels: tuple[str, ...] = ()
    terminates: tuple[str, ...] = ()


@dataclass
class _Tally:
    """A schedule's state while one step decides its ticks."""

    schedule: StoredSchedule
    status_of: StatusOf
    now: datetime
    runs: list[ScheduleRun] = field(default_factory=list)
    buffered: list[datetime] = field(default_factory=list)
    starts: list[ScheduleRun] = field(default_factory=list)
    cancels: list[str] = field(default_factory=list)
    terminates: list[str] = field(default_factory=list)
    missed: list[datetime] = field(default_factory=list)
    skipped: list[datetime] = field(default_factory=list)

    def __post_init__(self) -> None:
        state = self.schedule.state
        self.runs = [_refreshed(run, self.status_of) for run in state.recent_runs]
        self.buffered = list(state.buffered)

    @property
    def open_runs(self) -> list[str]:
        return [run.workflow_id for run in self.runs if run.is_open]

    def decide(self, tick: datetime, origin: RunOrigin) -> None:
        """Run, buffer or skip ``tick`` under the overlap policy."""
        workflow_id = tick_workflow_id(self.schedule.schedule_id, tick)
        if any(run.workflow_id == workflow_id for run in self.runs):
            return  # decided already (a trigger at a tick's time, a repeated backfill)
        status = self.status_of(workflow_id)
        if status is not None:  # started by a step whose state was not stored (a crash)
            self.runs.append(
                ScheduleRun(
                    workflow_id=workflow_id,
                    scheduled_at=tick,
                    started_at=self.now,
                    origin=origin,
                    status=status,
                )
            )
            return
        decision = decide(self.schedule.spec.overlap, len(self.open_runs), len(self.buffered))
        if decision.terminate:
            self._close(self.terminates, WorkflowStatus.TERMINATED)
        if decision.cancel:
            self._cancel()
        if decision.action == "start":
            self._start(tick, origin)
        elif decision.action == "buffer":
            self.buffered = [tick] if decision.replace_buffer else [*self.buffered, tick]
        else:
            self.skipped.append(tick)

    def release(self) -> None:
        """Start the first buffered tick if no run is open."""
        if may_release(len(self.open_runs), len(self.buffered)):
            self._start(self.buffered.pop(0), "tick")

    def _start(self, tick: datetime, origin: RunOrigin) -> None:
        workflow_id = tick_workflow_id(self.schedule.schedule_id, tick)
        run = ScheduleRun(
            workflow_id=workflow_id,
            scheduled_at=tick,
            started_at=self.now,
            origin=origin,
            status=None,
        )
        self.runs.append(run)
        self.starts.append(run)

    def _cancel(self) -> None:
        asking = [r for r in self.runs if r.is_open and not r.cancelling]
        self.cancels.extend(r.workflow_id for r in asking)
        self.runs = [
            r.model_copy(update={"cancelling": True}) if r in asking else r for r in self.runs
        ]

    def _close(self, into: list[str], status: WorkflowStatus) -> None:
        closing = set(self.open_runs)
        into.extend(closing)
        self.runs = [
            r.model_copy(update={"status": status}) if r.workflow_id in closing else r
            for r in self.runs
        ]

    def step(self, **state_changes: object) -> Step:
        state = self.schedule.state
        new_state = state.model_copy(
            update={
                "buffered": tuple(self.buffered),
                "recent_runs": tuple(self.runs[-RECENT:]),
                "missed": state.missed + len(self.missed),
                "skipped": state.skipped + len(self.skipped),
                "recent_missed": (*state.recent_missed, *self.missed)[-RECENT:],
                "recent_skipped": (*state.recent_skipped, *self.skipped)[-RECENT:],
                **state_changes,
            }
        )
        schedule = self.schedule.model_copy(update={"state": new_state, "updated_at": self.now})
        return Step(schedule, tuple(self.starts), tuple(self.cancels), tuple(self.terminates))


def advance(schedule: StoredSchedule, now: datetime, status_of: StatusOf) -> Step:
    """Decide the ticks of ``schedule`` that have fired by ``now`` (none while paused), then
    start a buffered tick if its turn has come."""
    tally = _Tally(schedule, status_of, now)
    spec, state = schedule.spec, schedule.state
    cursor, last = state.cursor, state.last_tick_at
    if not spec.paused:
        for tick in islice(ticks_after(spec, cursor), MAX_TICKS_PER_STEP):
            fires = fire_time(schedule.schedule_id, spec, tick)
            if fires > now:
                break
            if now - fires > spec.catchup_window:
                tally.missed.append(tick)
            else:
                tally.decide(tick, "tick")
            cursor = last = tick
    tally.release()
    return tally.step(cursor=cursor, last_tick_at=last, **_next_tick(schedule, cursor))


def trigger(schedule: StoredSchedule, now: datetime, status_of: StatusOf) -> Step:
    """One run now, under the overlap policy, even while paused."""
    return decide_ticks(schedule, [now], "trigger", now, status_of)


def decide_ticks(
    schedule: StoredSchedule,
    ticks: Iterable[datetime],
    origin: RunOrigin,
    now: datetime,
    status_of: StatusOf,
) -> Step:
    """Decide ``ticks`` (a trigger's, a backfill's) under the overlap policy; the schedule's
    own ticks (its cursor) are left as they were."""
    tally = _Tally(schedule, status_of, now)
    for tick in ticks:
        tally.decide(tick, origin)
    tally.release()
    return tally.step()


def refreshed(schedule: StoredSchedule, now: datetime, status_of: StatusOf) -> StoredSchedule:
    """``schedule`` with the statuses of its recent runs as the store has them now."""
    stepped = _Tally(schedule, status_of, now).step().schedule
    return stepped.model_copy(update={"updated_at": schedule.updated_at})


def _next_tick(schedule: StoredSchedule, cursor: datetime) -> dict[str, datetime | None]:
    tick = next(ticks_after(schedule.spec, cursor), None)
    fires = fire_time(schedule.schedule_id, schedule.spec, tick) if tick else None
    return {"next_tick_at": tick, "next_fire_at": fires}


def _refreshed(run: ScheduleRun, status_of: StatusOf) -> ScheduleRun:
    if not run.is_open:
        return run
    status = status_of(run.workflow_id)
    return (
        run if status is None or status == run.status else run.model_copy(update={"status": status})
    )
