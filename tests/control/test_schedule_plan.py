"""The schedule plan as pure logic over a fake clock and a dict of run statuses: ticks fire
when due, catch-up after downtime, every overlap policy, trigger and backfill, pause, and a
step taken twice (a crash before its state was stored) starting nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aion_ray.control.schedules.lifecycle import described, new_schedule, paused, unpaused
from aion_ray.control.schedules.overlap import decide
from aion_ray.control.schedules.plan import Step, advance, decide_ticks, trigger
from aion_ray.control.schedules.times import tick_workflow_id
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.payload import Payload
from aion_ray.model.schedule import schedule_spec
from aion_ray.model.schedule_state import StoredSchedule
from aion_ray.testing.clock import FakeClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RUNNING, COMPLETED = WorkflowStatus.RUNNING, WorkflowStatus.COMPLETED


class Runs:
    """A fake store of run statuses: what the host did with the steps it was given."""

    def __init__(self) -> None:
        self.status: dict[str, WorkflowStatus] = {}
        self.started: list[str] = []
        self.cancelled: list[str] = []
        self.terminated: list[str] = []

    def __call__(self, workflow_id: str) -> WorkflowStatus | None:
        return self.status.get(workflow_id)

    def perform(self, step: Step) -> StoredSchedule:
        for workflow_id in step.terminates:
            self.terminated.append(workflow_id)
            self.status[workflow_id] = WorkflowStatus.TERMINATED
        self.cancelled.extend(step.cancels)
        for run in step.starts:
            self.started.append(run.workflow_id)
            self.status.setdefault(run.workflow_id, RUNNING)
        return step.schedule

    def finish_all(self) -> None:
        for workflow_id, status in self.status.items():
            if status == RUNNING:
                self.status[workflow_id] = COMPLETED


def hourly(clock: FakeClock, **options: Any) -> StoredSchedule:
    spec = schedule_spec(every=timedelta(hours=1), **options)
    return new_schedule("s", "report", Payload(value=1), spec, clock.now())


def hour(n: int) -> str:
    return tick_workflow_id("s", T0 + timedelta(hours=n))


def test_a_tick_fires_when_it_falls_due_and_not_before() -> None:
    clock, runs = FakeClock(T0), Runs()
    schedule = hourly(clock)
    clock.advance(timedelta(minutes=59))
    schedule = runs.perform(advance(schedule, clock.now(), runs))
    assert runs.started == []
    clock.advance(timedelta(minutes=1))
    schedule = runs.perform(advance(schedule, clock.now(), runs))
    assert runs.started == [hour(1)]
    assert schedule.state.last_tick_at == T0 + timedelta(hours=1)
    assert schedule.state.next_fire_at == T0 + timedelta(hours=2)
    run = schedule.state.recent_runs[-1]
    assert (run.scheduled_at, run.origin) == (T0 + timedelta(hours=1), "tick")


def test_ticks_within_the_catchup_window_run_and_older_ones_are_missed() -> None:
    clock, runs = FakeClock(T0), Runs()
    schedule = hourly(clock, catchup_window=timedelta(hours=2), overlap="allow_all")
    clock.advance(timedelta(hours=5, minutes=30))  # down from 00:00 to 05:30
    schedule = runs.perform(advance(schedule, clock.now(), runs))
    assert runs.started == [hour(4), hour(5)]
    assert schedule.state.missed == 3
    assert schedule.state.recent_missed == tuple(T0 + timedelta(hours=h) for h in (1, 2, 3))
    assert schedule.state.cursor == T0 + timedelta(hours=5)


def test_catchup_runs_under_the_overlap_policy() -> None:
    clock, runs = FakeClock(T0), Runs()
    schedule = hourly(clock, catchup_window=timedelta(hours=3))
    clock.advance(timedelta(hours=3))
    schedule = runs.perform(advance(schedule, clock.now(), runs))
    assert runs.started == [hour(1)]  # skip: the others met the first still running
    assert schedule.state.skipped == 2


def test_a_long_downtime_is_decided_in_bounded_steps() -> None:
    clock, runs = FakeClock(T0), Runs()
    spec = schedule_spec(every=timedelta(seconds=1))
    schedule = new_schedule("s", "report", Payload(), spec, clock.now())
    clock.advance(timedelta(hours=4))  # 14,400 ticks
    first = advance(schedule, clock.now(), runs)
    assert first.schedule.state.missed == 10_000
    assert first.schedule.state.next_fire_at is not None
    assert first.schedule.state.next_fire_at <= clock.now()  # still due: advance again
    second = runs.perform(advance(first.schedule, clock.now(), runs))
    decided = second.state.missed + second.state.skipped + len(runs.started)
    assert decided == 14_400
    assert second.state.next_fire_at == clock.now() + timedelta(seconds=1)


@pytest.mark.parametrize(
    ("policy", "open_runs", "buffered", "expected"),
    [
        ("skip", 0, 0, ("start", False, False)),
        ("skip", 1, 0, ("skip", False, False)),
        ("buffer_one", 1, 0, ("buffer", False, False)),
        ("buffer_one", 1, 1, ("skip", False, False)),
        ("buffer_all", 1, 3, ("buffer", False, False)),
        ("buffer_all", 0, 1, ("buffer", False, False)),  # behind the ones waiting
        ("cancel_other", 1, 0, ("buffer", True, False)),
        ("terminate_other", 1, 0, ("start", False, True)),
        ("terminate_other", 0, 0, ("start", False, False)),
        ("allow_all", 2, 0, ("start", False, False)),
    ],
)
def test_the_overlap_decision(
    policy: Any, open_runs: int, buffered: int, expected: tuple[str, bool, bool]
) -> None:
    decision = decide(policy, open_runs, buffered)
    assert (decision.action, decision.cancel, decision.terminate) == expected


def two_ticks_over_a_long_run(policy: str) -> tuple[Runs, StoredSchedule, FakeClock]:
    """Three hourly ticks while the first tick's run is still going."""
    clock, runs = FakeClock(T0), Runs()
    schedule = hourly(clock, overlap=policy)
    for _ in range(3):
        clock.advance(timedelta(hours=1))
        schedule = runs.perform(advance(schedule, clock.now(), runs))
    return runs, schedule, clock


def test_skip_drops_ticks_while_a_run_is_open() -> None:
    runs, schedule, _ = two_ticks_over_a_long_run("skip")
    assert runs.started == [hour(1)]
    assert schedule.state.skipped == 2
    assert schedule.state.recent_skipped == (T0 + timedelta(hours=2), T0 + timedelta(hours=3))


def test_buffer_one_keeps_one_tick_for_when_the_run_ends() -> None:
    runs, schedule, clock = two_ticks_over_a_long_run("buffer_one")
    assert runs.started == [hour(1)]
    assert schedule.state.buffered == (T0 + timedelta(hours=2),)
    assert schedule.state.skipped == 1
    runs.finish_all()
    schedule = runs.perform(advance(schedule, clock.now(), runs))
    assert runs.started == [hour(1), hour(2)]
    assert schedule.state.buffered == ()


def test_buffer_all_starts_every_tick_one_after_another() -> None:
    runs, schedule, clock = two_ticks_over_a_long_run("buffer_all")
    assert schedule.state.buffered == (T0 + timedelta(hours=2), T0 + timedelta(hours=3))
    for expected in ([hour(1), hour(2)], [hour(1), hour(2), hour(3)]):
        runs.finish_all()
        schedule = runs.perform(advance(schedule, clock.now(), runs))
        assert runs.started == expected
    assert schedule.state.skipped == 0


def test_cancel_other_cancels_the_open_run_and_starts_the_newest_tick_after_it() -> None:
    runs, schedule, clock = two_ticks_over_a_long_run("cancel_other")
    assert runs.cancelled == [hour(1)]  # asked once, not again at every tick
    assert schedule.state.buffered == (T0 + timedelta(hours=3),)
    runs.status[hour(1)] = WorkflowStatus.CANCELLED
    schedule = runs.perform(advance(schedule, clock.now(), runs))
    assert runs.started == [hour(1), hour(3)]


def test_terminate_other_terminates_the_open_run_and_starts_at_once() -> None:
    runs, schedule, _ = two_ticks_over_a_long_run("terminate_other")
    assert runs.started == [hour(1), hour(2), hour(3)]
    assert runs.terminated == [hour(1), hour(2)]
    assert schedule.state.open_runs == [hour(3)]


def test_allow_all_lets_runs_overlap() -> None:
    runs, schedule, _ = two_ticks_over_a_long_run("allow_all")
    assert runs.started == [hour(1), hour(2), hour(3)]
    assert schedule.state.open_runs == [hour(1), hour(2), hour(3)]


def test_a_step_taken_twice_starts_nothing_twice() -> None:
    clock, runs = FakeClock(T0), Runs()
    schedule = hourly(clock)
    clock.advance(timedelta(hours=1))
    runs.perform(advance(schedule, clock.now(), runs))  # ... and the state is lost
    again = advance(schedule, clock.now(), runs)
    assert again.starts == ()
    assert [r.workflow_id for r in again.schedule.state.recent_runs] == [hour(1)]
    assert again.schedule.state.skipped == 0


def test_a_paused_schedule_runs_no_tick_and_catches_none_up() -> None:
    clock, runs = FakeClock(T0), Runs()
    schedule = paused(hourly(clock, catchup_window=timedelta(days=1)), "holiday", clock.now())
    clock.advance(timedelta(hours=3))
    schedule = runs.perform(advance(schedule, clock.now(), runs))
    assert runs.started == []
    schedule = unpaused(schedule, clock.now() + timedelta(minutes=1))
    clock.advance(timedelta(hours=1))
    schedule = runs.perform(advance(schedule, clock.now(), runs))
    assert runs.started == [hour(4)]
    assert (schedule.state.missed, schedule.state.skipped) == (0, 0)


def test_trigger_runs_now_even_while_paused_under_the_policy() -> None:
    clock, runs = FakeClock(T0), Runs()
    schedule = paused(hourly(clock), "off", clock.now())
    clock.advance(timedelta(minutes=5))
    schedule = runs.perform(trigger(schedule, clock.now(), runs))
    now_id = tick_workflow_id("s", clock.now())
    assert runs.started == [now_id]
    assert schedule.state.recent_runs[-1].origin == "trigger"
    clock.advance(timedelta(minutes=5))
    schedule = runs.perform(trigger(schedule, clock.now(), runs))
    assert runs.started == [now_id]  # skip: the first is still running
    assert schedule.state.skipped == 1


def test_backfill_decides_past_ticks_under_the_policy() -> None:
    clock, runs = FakeClock(T0 + timedelta(days=1)), Runs()
    schedule = hourly(clock, overlap="allow_all")
    ticks = [T0 + timedelta(hours=h) for h in range(3)]
    schedule = runs.perform(decide_ticks(schedule, ticks, "backfill", clock.now(), runs))
    assert runs.started == [hour(0), hour(1), hour(2)]
    assert {r.origin for r in schedule.state.recent_runs} == {"backfill"}
    assert schedule.state.cursor == clock.now()  # its own ticks go on as before


def test_describe_previews_the_next_fire_times() -> None:
    clock = FakeClock(T0 + timedelta(minutes=30))
    schedule = hourly(clock, jitter=timedelta(seconds=1))
    description = described(schedule, clock.now())
    assert len(description.next_fire_times) == 5
    assert description.next_fire_times[0] - (T0 + timedelta(hours=1)) < timedelta(seconds=1)
    assert list(description.next_fire_times) == sorted(description.next_fire_times)
