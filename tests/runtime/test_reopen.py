"""handle.reopen() on the TestEngine: a failed, cancelled, timed-out or terminated run goes
on in the same run; what completed replays, what ended it in failure runs again at its next
attempt with a fresh retry budget; every other state is refused with nothing written.
And the bulk forms of the operator verbs (``engine.pause_many`` and its kin)."""

from __future__ import annotations

import asyncio

import pytest

import aion_ray as aion
from aion_ray.model import events as ev
from aion_ray.testing import TestEngine
from aion_ray.testing.handle import TestWorkflowHandle
from aion_ray.testing.replay import replay

broken = {"fragile": True}


@aion.activity
def prepare(x: int) -> int:
    return x + 1


@aion.activity(retry=aion.RetryPolicy(max_attempts=2, initial_interval=1.0))
def fragile(x: int) -> int:
    if broken["fragile"]:
        raise ConnectionError("the service is down")
    return x * 10


@aion.workflow
async def pipeline(ctx: aion.WorkflowContext, x: int) -> int:
    prepared = await ctx.run(prepare, x)
    return await ctx.run(fragile, prepared)


def attempts(history: list[ev.Event], activity_id: int) -> list[int]:
    return [
        e.attempt
        for e in history
        if isinstance(e, ev.ActivityStarted) and e.activity_id == activity_id
    ]


def failed_run(engine: TestEngine, workflow_id: str) -> TestWorkflowHandle[int]:
    broken["fragile"] = True
    handle = engine.start(pipeline, 1, id=workflow_id)
    with pytest.raises(aion.WorkflowFailedError):
        handle.result()
    return handle


@pytest.mark.usefixtures("on_both_stores")
def test_a_failed_run_reopened_after_a_fix_completes_without_running_what_completed() -> None:
    engine = TestEngine()
    handle = failed_run(engine, "r-1")
    assert handle.describe().status == aion.WorkflowStatus.FAILED
    broken["fragile"] = False  # the fix
    handle.reopen()
    assert handle.result() == 20
    assert engine.activity_calls["prepare"] == 1  # its recorded result replayed
    assert engine.activity_calls["fragile"] == 3
    history = handle.history()
    assert attempts(history, 2) == [1, 2, 3]  # the attempt numbers go on
    reopened = [e for e in history if isinstance(e, ev.WorkflowReopened)]
    assert [r.reopened_activities for r in reopened] == [(2,)]
    assert {e.run_id for e in history} == {history[0].run_id}  # the same run
    info = handle.describe()
    assert (info.status, info.closed_at is not None) == (aion.WorkflowStatus.COMPLETED, True)
    assert replay(history, pipeline) is not None  # the stored history replays as it is


def test_a_reopened_run_gets_a_fresh_retry_budget_and_can_fail_and_be_reopened_again() -> None:
    engine = TestEngine()
    handle = failed_run(engine, "r-2")
    handle.reopen()
    assert handle.describe().status == aion.WorkflowStatus.RUNNING
    with pytest.raises(aion.WorkflowFailedError):
        handle.result()  # still broken: two more attempts (a fresh budget), then failed
    assert attempts(handle.history(), 2) == [1, 2, 3, 4]
    broken["fragile"] = False
    handle.reopen()
    engine.crash()  # a reopened run is rebuilt from history like any other
    assert handle.result() == 20
    assert attempts(handle.history(), 2) == [1, 2, 3, 4, 5]
    assert engine.activity_calls["prepare"] == 1


@aion.workflow
async def waits_for_go(ctx: aion.WorkflowContext) -> str:
    prepared = await ctx.run(prepare, 1)
    try:
        go = await ctx.wait_signal("go")
    except asyncio.CancelledError:
        await ctx.run(prepare, 100)  # cleanup
        raise
    return f"{prepared}-{go}"


def test_a_terminated_run_reopened_waits_where_it_stopped() -> None:
    engine = TestEngine()
    handle = engine.start(waits_for_go, id="r-3")
    handle.terminate("oops")
    handle.reopen()
    assert handle.describe().status == aion.WorkflowStatus.RUNNING
    handle.signal("go", "now")
    assert handle.result() == "2-now"
    assert engine.activity_calls["prepare"] == 1


def test_a_cancelled_run_reopened_has_its_cancellation_taken_back() -> None:
    engine = TestEngine()
    handle = engine.start(waits_for_go, id="r-4")
    assert handle.cancel("by mistake")
    with pytest.raises(aion.WorkflowCancelledError):
        handle.result()
    assert engine.activity_calls["prepare"] == 2  # the cleanup ran
    handle.reopen()
    handle.signal("go", "again")
    assert handle.result() == "2-again"
    assert engine.activity_calls["prepare"] == 2  # neither the first step nor the cleanup
    history = handle.history()
    assert [e.type for e in history].count("WorkflowCancelled") == 1  # kept, superseded
    assert replay(history, waits_for_go) is not None
    handle2 = engine.start(waits_for_go, id="r-5")
    handle2.cancel("once")
    handle2.reopen()
    assert handle2.cancel("twice")  # the taken-back request does not count
    with pytest.raises(aion.WorkflowCancelledError):
        handle2.result()


@aion.workflow
async def slow(ctx: aion.WorkflowContext) -> str:
    await ctx.run(prepare, 1)
    await ctx.sleep(100)
    return "slow"


def test_a_timed_out_run_reopened_gets_its_execution_timeout_again() -> None:
    engine = TestEngine()
    handle = engine.start(slow, id="r-6", execution_timeout=30)
    with pytest.raises(aion.WorkflowTimedOutError):
        handle.result()
    handle.reopen()
    with pytest.raises(aion.WorkflowTimedOutError):
        handle.result()  # reopened at 30 s, timed out at 60 s: its sleep ends at 100 s
    assert [e.type for e in handle.history()].count("WorkflowTimedOut") == 2
    assert engine.activity_calls["prepare"] == 1


@pytest.mark.usefixtures("on_both_stores")
def test_reopen_refuses_every_other_state_and_writes_nothing() -> None:
    engine = TestEngine()
    running = engine.start(waits_for_go, id="r-7")
    paused = engine.start(waits_for_go, id="r-8")
    paused.pause("hold")
    done = engine.start(slow, id="r-9")
    done.result()
    for handle, status in ((running, "running"), (paused, "paused"), (done, "completed")):
        before = len(handle.history())
        with pytest.raises(aion.WorkflowStateError) as info:
            handle.reopen()
        assert (info.value.status, info.value.operation) == (status, "reopen")
        assert len(handle.history()) == before
    with pytest.raises(aion.WorkflowNotFoundError):
        TestWorkflowHandle(engine, "nobody", None).reopen()
    assert engine.store.read_history("nobody") == []


def test_a_run_terminated_while_paused_reopens_unpaused() -> None:
    engine = TestEngine()
    handle = engine.start(waits_for_go, id="r-10")
    handle.pause("hold")
    handle.terminate("stop")
    handle.reopen()
    assert handle.describe().status == aion.WorkflowStatus.RUNNING
    with pytest.raises(aion.WorkflowStateError):
        handle.resume()  # nothing holds it
    handle.signal("go", "x")
    assert handle.result() == "2-x"


def test_the_many_forms_apply_their_verb_to_what_the_filter_matches() -> None:
    engine = TestEngine()
    waiting = [engine.start(waits_for_go, id=f"m-{n}") for n in range(3)]
    failed = failed_run(engine, "m-failed")
    with pytest.raises(aion.InvalidInputError, match="bogus"):
        engine.pause_many(status="bogus")
    with pytest.raises(aion.InvalidInputError, match="pause reason"):
        engine.pause_many(reason="")
    with pytest.raises(aion.InvalidInputError, match="workflow_type"):
        engine.reopen_many(workflow_type="")
    assert engine.pause_many() == 3  # the running ones
    assert engine.resume_many(workflow_type=pipeline.name) == 0
    assert engine.resume_many(status="paused") == 3
    assert engine.cancel_many(workflow_type=waits_for_go.name, reason="bulk") == 3
    broken["fragile"] = False
    assert engine.reopen_many() == 4  # the cancelled three and the failed one
    assert failed.result() == 20
    assert engine.terminate_many(status="running") == 3
    assert engine.reopen_many(status="completed") == 0
    for handle in waiting:
        with pytest.raises(aion.WorkflowTerminatedError):
            handle.result()
