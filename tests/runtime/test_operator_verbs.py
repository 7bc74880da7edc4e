"""Operator verbs on the TestEngine: terminate (an end with no cleanup), per-run execution
timeouts, and the wrong states each refuses with nothing written."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

import aion_ray as aion
from aion_ray.model import events as ev
from aion_ray.testing import TestEngine
from aion_ray.testing.replay import replay

HOUR = 3600.0
cleanups: list[str] = []


@aion.activity
def cleanup(reason: str) -> str:
    cleanups.append(reason)
    return reason


@aion.activity(retry=aion.RetryPolicy(max_attempts=5, initial_interval=HOUR, max_interval=HOUR))
def flaky(x: int) -> int:
    raise ConnectionError("not yet")


@aion.workflow
async def careful(ctx: aion.WorkflowContext) -> str:
    try:
        await ctx.run(flaky, 1)
        await ctx.sleep(24 * HOUR)
    except asyncio.CancelledError:
        await ctx.run(cleanup, "cancelled")
        raise
    return "done"


@aion.workflow
async def quick(ctx: aion.WorkflowContext) -> str:
    return "quick"


def kinds(events: list[ev.Event]) -> list[str]:
    return [e.type for e in events]


def test_terminate_ends_the_run_at_once_with_no_cleanup_and_no_further_attempt() -> None:
    cleanups.clear()
    engine = TestEngine()
    handle = engine.start(careful, id="t-1")
    assert kinds(handle.history()).count("ActivityStarted") == 1  # its retry waits an hour
    handle.terminate("bad deploy")
    with pytest.raises(aion.WorkflowTerminatedError) as info:
        handle.result()
    assert info.value.reason == "bad deploy"
    history = handle.history()
    assert history[-1].type == "WorkflowTerminated"
    assert kinds(history).count("ActivityStarted") == 1  # the pending retry never ran
    assert cleanups == []  # the workflow code saw nothing
    assert handle.describe().status == aion.WorkflowStatus.TERMINATED
    assert [i.workflow_id for i in engine.list(status="terminated")] == ["t-1"]


@pytest.mark.usefixtures("on_both_stores")
def test_terminate_of_an_ended_run_is_refused_naming_its_status_and_writes_nothing() -> None:
    engine = TestEngine()
    handle = engine.start(quick, id="t-2")
    assert handle.result() == "quick"
    before = len(handle.history())
    with pytest.raises(aion.WorkflowTerminalError) as info:
        handle.terminate("too late")
    assert info.value.status == "completed"
    assert info.value.operation == "terminate"
    assert len(handle.history()) == before


def test_a_terminated_run_replays_as_ended_on_recovery() -> None:
    engine = TestEngine()
    handle = engine.start(careful, id="t-3")
    handle.terminate("stop")
    engine.resume("t-3")
    with pytest.raises(aion.WorkflowTerminatedError):
        handle.result()
    with pytest.raises(aion.WorkflowTerminalError, match="terminated"):
        handle.terminate("again")


def test_terminate_of_a_suspended_workflow_is_recorded_by_the_control_plane() -> None:
    cleanups.clear()
    engine = TestEngine(idle_timeout=60.0)
    handle = engine.start(suspended_waiter, id="t-5")
    engine.sleep(61)
    assert handle.describe().residency == "suspended"
    handle.terminate("cleanup")
    with pytest.raises(aion.WorkflowTerminatedError):
        handle.result()
    assert handle.history()[-1].type == "WorkflowTerminated"
    assert cleanups == []


@aion.workflow
async def suspended_waiter(ctx: aion.WorkflowContext) -> str:
    try:
        return str(await ctx.wait_signal("go"))
    except asyncio.CancelledError:
        await ctx.run(cleanup, "cancelled")
        raise


@aion.workflow
async def child_sleeper(ctx: aion.WorkflowContext) -> str:
    await ctx.sleep(HOUR)
    return "child"


@aion.workflow
async def parent(ctx: aion.WorkflowContext) -> str:
    try:
        return await ctx.run_child(child_sleeper, id="t-child")
    except aion.WorkflowTerminatedError as exc:
        return f"child terminated: {exc.reason}"


def test_a_parent_sees_its_terminated_child_as_workflow_terminated_error() -> None:
    engine = TestEngine()
    handle = engine.start(parent, id="t-parent")
    engine.get("t-child").terminate("operator")
    assert handle.result() == "child terminated: operator"


def test_the_terminate_many_counts_what_it_touched() -> None:
    engine = TestEngine()
    for i in range(3):
        engine.start(suspended_waiter, id=f"m-{i}")
    engine.start(quick, id="m-quick")
    engine.start(careful, id="m-other")  # running, of another type
    touched = engine.terminate_many(status="running", workflow_type=suspended_waiter.name)
    assert touched == 3
    assert len(engine.list(status="terminated")) == 3
    assert engine.describe("m-other").status == aion.WorkflowStatus.RUNNING
    assert engine.terminate_many(status="running") == 1
    assert engine.terminate_many() == 0  # every one has ended: none is touched


# --- execution_timeout at start -------------------------------------------------------------


@aion.workflow(timeout=10.0)
async def sleeps_a_minute(ctx: aion.WorkflowContext) -> str:
    await ctx.sleep(60)
    return "rested"


def test_execution_timeout_times_the_run_out_and_stops_its_retries() -> None:
    engine = TestEngine()
    handle = engine.start(careful, id="x-1", execution_timeout=90 * 60)
    with pytest.raises(aion.WorkflowTimedOutError, match="5400"):
        handle.result()
    history = handle.history()
    assert history[-1].type == "WorkflowTimedOut"
    assert history[-1].recorded_at - history[0].recorded_at == timedelta(minutes=90)
    assert kinds(history).count("ActivityStarted") == 2  # the first try and the retry at 1 h
    assert handle.describe().status == aion.WorkflowStatus.TIMED_OUT


def test_execution_timeout_overrides_the_workflows_own_timeout() -> None:
    engine = TestEngine()
    assert engine.start(sleeps_a_minute, execution_timeout=120).result() == "rested"
    with pytest.raises(aion.WorkflowTimedOutError, match=r"10\.0s"):
        engine.start(sleeps_a_minute).result()


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), True, "60", 1e12])
def test_a_bad_execution_timeout_is_refused_and_nothing_is_written(bad: object) -> None:
    engine = TestEngine()
    with pytest.raises(aion.InvalidInputError, match="execution_timeout"):
        engine.start(quick, id="x-bad", execution_timeout=bad)  # type: ignore[arg-type]
    assert engine.list() == []


# --- pause and resume -----------------------------------------------------------------------

steps: list[int] = []


@aion.activity
def step(n: int) -> int:
    steps.append(n)
    return n * 10


@aion.workflow
async def gated(ctx: aion.WorkflowContext) -> int:
    n = int(await ctx.wait_signal("go"))
    await ctx.sleep(60)
    return await ctx.run(step, n)


def test_a_pause_holds_activities_and_timers_back_until_resume() -> None:
    steps.clear()
    engine = TestEngine()
    handle = engine.start(gated, id="p-1")
    handle.pause("investigating")
    assert handle.describe().status == aion.WorkflowStatus.PAUSED
    handle.signal("go", 4)  # recorded while paused
    engine.sleep(3600)  # the 60 s timer falls due while paused: it is kept
    history = handle.history()
    assert "SignalReceived" in kinds(history)
    assert "TimerFired" not in kinds(history)
    handle.resume()
    assert handle.result() == 40
    names = kinds(handle.history())
    assert names.index("WorkflowResumed") < names.index("TimerFired")
    assert names.index("WorkflowResumed") < names.index("ActivityStarted")
    assert steps == [4]


@aion.workflow
async def signalled_step(ctx: aion.WorkflowContext) -> int:
    return await ctx.run(step, int(await ctx.wait_signal("go")))


def test_a_paused_workflow_schedules_but_starts_no_attempt_and_stays_paused_when_rebuilt() -> None:
    steps.clear()
    engine = TestEngine()
    handle = engine.start(signalled_step, id="p-2")
    handle.pause("hold")
    handle.signal("go", 2)  # the workflow asks for its activity: recorded, not started
    names = kinds(handle.history())
    assert "ActivityScheduled" in names
    assert "ActivityStarted" not in names
    engine.crash("p-2")  # its host dies: the run is rebuilt from history, still held
    engine.sleep(600)
    assert "ActivityStarted" not in kinds(handle.history())
    assert handle.describe().status == aion.WorkflowStatus.PAUSED
    assert steps == []
    handle.resume()
    assert handle.result() == 20
    assert steps == [2]
    assert replay(handle.history(), signalled_step).runs == 1  # the hold replays as nothing


def test_pause_and_resume_refuse_the_wrong_state_and_write_nothing() -> None:
    engine = TestEngine()
    handle = engine.start(gated, id="p-3")
    with pytest.raises(aion.WorkflowStateError, match="running") as info:
        handle.resume()
    assert info.value.status == "running"
    handle.pause("one")
    before = len(handle.history())
    with pytest.raises(aion.WorkflowStateError, match="paused"):
        handle.pause("two")
    assert len(handle.history()) == before
    handle.terminate("done")  # a paused run can be terminated
    with pytest.raises(aion.WorkflowTerminalError, match="terminated"):
        handle.pause("three")
    with pytest.raises(aion.WorkflowTerminalError, match="terminated"):
        handle.resume()


def test_a_suspended_workflow_is_paused_and_resumed_by_the_control_plane() -> None:
    steps.clear()
    engine = TestEngine(idle_timeout=30.0)
    handle = engine.start(gated, id="p-4")
    engine.sleep(31)
    assert handle.describe().residency == "suspended"
    handle.pause("hold")
    handle.signal("go", 7)
    engine.sleep(600)
    assert steps == []
    assert handle.describe().status == aion.WorkflowStatus.PAUSED
    handle.resume()
    assert handle.result() == 70


@aion.workflow
async def signalled_parent(ctx: aion.WorkflowContext) -> str:
    await ctx.wait_signal("go")
    return await ctx.run_child(child_sleeper, id="held-child")


def test_a_paused_workflow_launches_no_child_until_resume() -> None:
    engine = TestEngine()
    handle = engine.start(signalled_parent, id="p-parent")
    handle.pause("hold")
    handle.signal("go")
    assert "ChildWorkflowStarted" in kinds(handle.history())  # recorded, not launched
    with pytest.raises(aion.WorkflowNotFoundError):
        engine.get("held-child")
    handle.resume()
    assert handle.result() == "child"
