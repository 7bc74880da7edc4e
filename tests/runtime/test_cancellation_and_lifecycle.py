"""Cancellation, continue-as-new, failures, workflow timeouts and starting workflows."""

from __future__ import annotations

import asyncio
import gc
from datetime import timedelta
from typing import Any

import pytest

import aion_ray as aion
from aion_ray.model import events as ev
from aion_ray.testing import TestEngine

HOUR = 3600.0


@aion.activity
def add(a: int, b: int) -> int:
    return a + b


@aion.activity
def compensate(reason: str) -> str:
    return f"undone ({reason})"


@aion.activity(retry=aion.RetryPolicy(max_attempts=3, initial_interval=HOUR, max_interval=HOUR))
def slow_to_succeed(x: int) -> int:
    raise ConnectionError("not yet")


def kinds(events: list[ev.Event]) -> list[str]:
    return [e.type for e in events]


def of_type(events: list[ev.Event], cls: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


# --- cancellation ---------------------------------------------------------------------------


@aion.workflow
async def sleeper(ctx: aion.WorkflowContext) -> str:
    await ctx.sleep(24 * HOUR)
    return "woke"


def test_uncaught_cancellation_ends_the_run_as_cancelled() -> None:
    engine = TestEngine()
    handle = engine.start(sleeper, id="wf-cancel")
    assert handle.cancel(reason="superseded") is True
    with pytest.raises(aion.WorkflowCancelledError) as info:
        handle.result()
    assert info.value.reason == "superseded"
    history = handle.history()
    names = kinds(history)
    assert names.count("WorkflowCancelRequested") == names.count("WorkflowCancelled") == 1
    assert names.index("WorkflowCancelRequested") < names.index("WorkflowCancelled")
    assert names[-1] == "WorkflowCancelled"
    assert history[-1].reason == "superseded"  # type: ignore[union-attr]
    assert len(of_type(history, ev.TimerCancelled)) == 1  # the sleep it was cancelled in
    assert of_type(history, ev.TimerFired) == []
    assert handle.describe().status == aion.WorkflowStatus.CANCELLED


@aion.workflow
async def compensating(ctx: aion.WorkflowContext, reraise: bool) -> str:
    try:
        await ctx.sleep(24 * HOUR)
    except asyncio.CancelledError:
        undone = await ctx.run(compensate, "cancelled")
        if reraise:
            raise
        return undone
    return "finished"


def test_a_cancelled_workflow_can_compensate_then_reraise() -> None:
    engine = TestEngine()
    handle = engine.start(compensating, True, id="wf-compensate-reraise")
    handle.cancel(reason="user abort")
    with pytest.raises(aion.WorkflowCancelledError):
        handle.result()
    history = handle.history()
    assert [c.result.value for c in of_type(history, ev.ActivityCompleted)] == [
        "undone (cancelled)"
    ]
    assert kinds(history)[-1] == "WorkflowCancelled"
    assert engine.activity_calls["compensate"] == 1


def test_a_cancelled_workflow_can_compensate_and_complete() -> None:
    engine = TestEngine()
    handle = engine.start(compensating, False, id="wf-compensate-return")
    handle.cancel()
    assert handle.result() == "undone (cancelled)"
    assert kinds(handle.history())[-1] == "WorkflowCompleted"
    assert handle.describe().status == aion.WorkflowStatus.COMPLETED


@aion.workflow
async def awaits_activity(ctx: aion.WorkflowContext) -> int:
    return await ctx.run(slow_to_succeed, 1)


def test_cancelling_while_awaiting_an_activity_records_its_cancellation() -> None:
    engine = TestEngine()
    handle = engine.start(awaits_activity, id="wf-cancel-activity")
    assert engine.activity_calls["slow_to_succeed"] == 1  # now waiting an hour to retry
    handle.cancel(reason="stop")
    with pytest.raises(aion.WorkflowCancelledError):
        handle.result()
    history = handle.history()
    (cancelled,) = of_type(history, ev.ActivityCancelled)
    assert cancelled.activity_id == 1
    assert kinds(history).index("ActivityCancelled") < kinds(history).index("WorkflowCancelled")
    engine.sleep(10 * HOUR)
    assert engine.activity_calls["slow_to_succeed"] == 1  # no retry after the cancel


@aion.workflow
async def survives_cancel(ctx: aion.WorkflowContext) -> str:
    try:
        await ctx.run(slow_to_succeed, 2)
    except asyncio.CancelledError:
        await ctx.sleep(10 * HOUR)  # long enough for every retry of the cancelled activity
        return "recovered"
    return "unreachable"


def test_an_activity_cancelled_by_a_caught_cancellation_is_not_retried() -> None:
    engine = TestEngine()
    handle = engine.start(survives_cancel, id="wf-cancel-caught")
    handle.cancel()
    assert handle.result() == "recovered"
    history = handle.history()
    assert len(of_type(history, ev.ActivityCancelled)) == 1
    assert [f.attempt for f in of_type(history, ev.ActivityFailed)] == [1]
    assert engine.activity_calls["slow_to_succeed"] == 1


def test_cancel_on_a_finished_workflow_returns_false_and_appends_nothing() -> None:
    engine = TestEngine()
    handle = engine.start(compensating, False, id="wf-cancel-finished")
    handle.cancel()
    handle.result()
    before = handle.history()
    assert handle.cancel() is False
    assert handle.history() == before


# --- continue-as-new ------------------------------------------------------------------------


@aion.workflow
async def chain(ctx: aion.WorkflowContext, run_ids: list[str]) -> list[str]:
    run_ids = [*run_ids, ctx.info.run_id]
    await ctx.run(add, len(run_ids), 0)
    if len(run_ids) < 3:
        ctx.continue_as_new(run_ids)
    return run_ids


def test_continue_as_new_chains_runs_in_one_history() -> None:
    engine = TestEngine()
    handle = engine.start(chain, [], id="wf-chain")
    run_ids = handle.result()
    assert len(set(run_ids)) == 3
    history = handle.history()
    starts = of_type(history, ev.WorkflowStarted)
    assert [s.run_id for s in starts] == run_ids
    assert [s.parent_run_id for s in starts] == [None, run_ids[0], run_ids[1]]
    assert {e.workflow_id for e in history} == {"wf-chain"}
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    continued = of_type(history, ev.WorkflowContinuedAsNew)
    assert [c.run_id for c in continued] == run_ids[:2]
    assert [c.next_run_id for c in continued] == run_ids[1:]
    assert kinds(history)[-1] == "WorkflowCompleted"
    assert handle.describe().run_id == run_ids[2]
    assert engine.activity_calls["add"] == 3


@aion.workflow
async def continue_with_pending(ctx: aion.WorkflowContext, n: int) -> int:
    if n == 0:
        task = asyncio.create_task(ctx.run(add, 1, 1))
        await asyncio.sleep(0)
        ctx.continue_as_new(1)
        await task
    return n


def test_continue_as_new_with_an_activity_pending_is_a_usage_error() -> None:
    engine = TestEngine()
    handle = engine.start(continue_with_pending, 0, id="wf-continue-pending")
    with pytest.raises(aion.WorkflowFailedError) as info:
        handle.result()
    assert info.value.cause.type == "WorkflowUsageError"
    assert of_type(handle.history(), ev.WorkflowContinuedAsNew) == []


@aion.workflow
async def continue_after_create_task(ctx: aion.WorkflowContext, n: int) -> int:
    if n == 0:
        task = asyncio.create_task(ctx.run(add, 1, 1))
        ctx.continue_as_new(1)
        await task
    return n


def test_continue_as_new_does_not_silently_drop_a_created_activity_task() -> None:
    engine = TestEngine()
    handle = engine.start(continue_after_create_task, 0, id="wf-continue-dropped")
    try:
        outcome = f"completed: {handle.result()}"
    except aion.WorkflowFailedError as exc:
        outcome = exc.cause.type
    del engine, handle
    gc.collect()  # a dropped, never-started activity coroutine is reported here, not later
    assert outcome == "WorkflowUsageError"


# --- failures and timeouts ------------------------------------------------------------------


class PipelineBroken(Exception):
    pass


@aion.workflow
async def broken(ctx: aion.WorkflowContext, n: int) -> int:
    await ctx.run(add, n, 1)
    raise PipelineBroken(f"stage {n} exploded")


def test_an_exception_in_workflow_code_fails_the_run_with_its_type_and_message() -> None:
    engine = TestEngine()
    handle = engine.start(broken, 3, id="wf-broken")
    with pytest.raises(aion.WorkflowFailedError) as info:
        handle.result()
    assert info.value.cause.type == "PipelineBroken"
    assert info.value.cause.message == "stage 3 exploded"
    assert "PipelineBroken" in str(info.value)
    history = handle.history()
    assert kinds(history)[-1] == "WorkflowFailed"
    assert len(of_type(history, ev.WorkflowFailed)) == 1
    assert handle.describe().status == aion.WorkflowStatus.FAILED


@aion.workflow(timeout=60)
async def too_slow(ctx: aion.WorkflowContext) -> str:
    await ctx.sleep(HOUR)
    return "late"


def test_a_workflow_timeout_ends_the_run_timed_out() -> None:
    engine = TestEngine()
    handle = engine.start(too_slow, id="wf-timeout")
    with pytest.raises(aion.WorkflowTimedOutError):
        handle.result()
    history = handle.history()
    assert kinds(history)[-1] == "WorkflowTimedOut"
    assert history[-1].recorded_at == history[0].recorded_at + timedelta(seconds=60)
    assert of_type(history, ev.TimerFired) == []
    assert handle.describe().status == aion.WorkflowStatus.TIMED_OUT
    engine.sleep(2 * HOUR)
    assert handle.history() == history  # nothing after the terminal event


# --- starting -------------------------------------------------------------------------------


@aion.workflow
async def echo(ctx: aion.WorkflowContext, value: int) -> int:
    await ctx.wait_signal("go")
    return value


@aion.workflow
async def text_flow(ctx: aion.WorkflowContext, text: str) -> int:
    return len(text)


@aion.workflow
async def no_input(ctx: aion.WorkflowContext) -> str:
    return "ok"


def test_start_is_idempotent_by_id_for_the_same_workflow_and_input() -> None:
    engine = TestEngine()
    first = engine.start(echo, 5, id="wf-idem")
    again = engine.start(echo, 5, id="wf-idem")
    assert again.workflow_id == first.workflow_id
    assert len(of_type(first.history(), ev.WorkflowStarted)) == 1
    assert len(engine.list()) == 1
    again.signal("go")
    assert first.result() == 5


def test_start_with_a_different_input_or_type_is_refused() -> None:
    engine = TestEngine()
    handle = engine.start(echo, 5, id="wf-taken")
    before = handle.history()
    with pytest.raises(aion.WorkflowAlreadyStartedError):
        engine.start(echo, 6, id="wf-taken")
    with pytest.raises(aion.WorkflowAlreadyStartedError):
        engine.start(no_input, id="wf-taken")
    assert handle.history() == before


async def not_decorated(ctx: aion.WorkflowContext) -> None:
    return None


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("not a workflow", aion.InvalidInputError),
        ("empty id", aion.InvalidInputError),
        ("spaced id", aion.InvalidInputError),
        ("id of wrong type", aion.InvalidInputError),
        ("input to a no-input workflow", aion.InvalidInputError),
        ("oversize input", aion.PayloadError),
        ("input of the wrong type", aion.InvalidInputError),
    ],
)
def test_bad_starts_raise_typed_errors_and_write_nothing(case: str, error: type[Exception]) -> None:
    engine = TestEngine(max_payload_bytes=1000)
    starts: dict[str, Any] = {
        "not a workflow": lambda: engine.start(not_decorated, id="wf-bad"),  # type: ignore[arg-type]
        "empty id": lambda: engine.start(echo, 1, id=""),
        "spaced id": lambda: engine.start(echo, 1, id=" wf "),
        "id of wrong type": lambda: engine.start(echo, 1, id=7),  # type: ignore[arg-type]
        "input to a no-input workflow": lambda: engine.start(no_input, 1, id="wf-bad"),
        "oversize input": lambda: engine.start(text_flow, "x" * 5000, id="wf-bad"),
        "input of the wrong type": lambda: engine.start(echo, "not a number", id="wf-bad"),
    }
    with pytest.raises(error) as info:
        starts[case]()
    assert str(info.value)
    assert engine.list() == []
    assert engine.store.read_history("wf-bad") == []
