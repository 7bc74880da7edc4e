"""Edge cases found in review: each of these once lost work, hung, or crashed the host."""

from __future__ import annotations

import asyncio
import contextlib
import math
from typing import Any

import pytest

import aion_ray as aion
from aion_ray.model import events as ev
from aion_ray.testing import TestEngine


@aion.activity(retry=aion.RetryPolicy(max_attempts=10, initial_interval=60.0))
def always_fails() -> int:
    raise ConnectionError("down")


@aion.activity
def one() -> int:
    return 1


@aion.workflow
async def cancel_then_continue(ctx: aion.WorkflowContext, run: int) -> int:
    if run == 1:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ctx.run(always_fails), timeout=10)
        ctx.continue_as_new(2)
    return await ctx.run(one)


def test_a_cancelled_activity_leaves_no_retry_behind_for_the_next_run() -> None:
    engine = TestEngine()
    handle = engine.start(cancel_then_continue, 1, id="wf-cancel-can")
    assert handle.result() == 1
    run2 = [e for e in handle.history() if e.run_id != handle.history()[0].run_id]
    attempts = [e.attempt for e in run2 if isinstance(e, ev.ActivityStarted)]
    assert attempts == [1]
    assert engine.activity_calls["always_fails"] == 1
    assert engine.activity_calls["one"] == 1


@aion.workflow
async def refuses_bad_values(ctx: aion.WorkflowContext) -> list[str]:
    errors = []
    calls: list[Any] = [
        lambda: ctx.upsert_search_attributes({"loss": math.nan}),
        lambda: ctx.patched(""),
        lambda: ctx.signal_workflow("other", ""),
        lambda: ctx.sleep(1e12),
        lambda: ctx.wait_signal(""),
    ]
    for call in calls:
        try:
            result = call()
            if asyncio.iscoroutine(result):
                await result
        except aion.InvalidInputError as exc:
            errors.append(type(exc).__name__)
    return errors


def test_bad_values_in_workflow_code_are_typed_errors_not_host_crashes() -> None:
    engine = TestEngine()
    handle = engine.start(refuses_bad_values, id="wf-bad-values")
    assert handle.result() == ["InvalidInputError"] * 5
    assert [e.type for e in handle.history()][-1] == "WorkflowCompleted"


@aion.workflow
async def zero_timeout_then_sleep(ctx: aion.WorkflowContext) -> str:
    with contextlib.suppress(TimeoutError):
        await ctx.wait_signal("go", timeout=0)
    await ctx.sleep(5)
    return "slept"


def test_a_zero_timeout_does_not_rename_the_next_timer() -> None:
    engine = TestEngine()
    handle = engine.start(zero_timeout_then_sleep, id="wf-zero-timeout")
    assert handle.result() == "slept"
    timers = [e for e in handle.history() if isinstance(e, ev.TimerStarted)]
    assert [t.name for t in timers] == ["sleep"]


@aion.workflow
async def waits_for_go(ctx: aion.WorkflowContext) -> str:
    return str(await ctx.wait_signal("go"))


@aion.workflow
async def sends_go_later(ctx: aion.WorkflowContext, target: str) -> None:
    await ctx.sleep(10)
    await ctx.signal_workflow(target, "go", "hello")
    await ctx.sleep(10)  # still running when its host dies


def crash_the_sender_once_it_has_sent(engine: TestEngine, *, lose_the_delivery: bool) -> None:
    """Crash wf-sender right after its SignalSent is recorded; with ``lose_the_delivery`` the
    host dies with the delivery still in memory, else the first delivery stays queued."""

    def crash() -> None:
        sender = engine.store.read_history("wf-sender")
        if any(isinstance(e, ev.SignalSent) for e in sender) and engine.step_hook:
            engine.step_hook = None
            if lose_the_delivery:
                engine._ready.clear()
            engine.crash("wf-sender")

    engine.step_hook = crash


def test_a_signal_recorded_but_not_delivered_is_sent_again_after_a_crash() -> None:
    engine = TestEngine()
    target = engine.start(waits_for_go, id="wf-target")
    crash_the_sender_once_it_has_sent(engine, lose_the_delivery=True)
    sender = engine.start(sends_go_later, "wf-target", id="wf-sender")
    sender.result()
    assert target.result() == "hello"
    received = [e for e in target.history() if isinstance(e, ev.SignalReceived)]
    assert len(received) == 1


def test_a_repeated_delivery_is_recorded_once() -> None:
    engine = TestEngine()
    target = engine.start(waits_for_go, id="wf-target")
    crash_the_sender_once_it_has_sent(engine, lose_the_delivery=False)  # two deliveries arrive
    engine.start(sends_go_later, "wf-target", id="wf-sender").result()
    assert target.result() == "hello"
    assert len([e for e in target.history() if isinstance(e, ev.SignalReceived)]) == 1


@aion.workflow
async def child_of_taken_id(ctx: aion.WorkflowContext) -> str:
    try:
        await ctx.run_child(waits_for_go, id="taken")
    except aion.WorkflowFailedError as exc:
        return exc.cause.type
    return "started"


def test_a_child_whose_id_is_taken_fails_in_the_parent() -> None:
    engine = TestEngine()
    engine.start(waits_for_go, id="taken")
    handle = engine.start(child_of_taken_id, id="wf-parent")
    assert handle.result() == "WorkflowAlreadyStartedError"


class Opaque:
    """A class the JSON codec cannot describe."""


def test_a_type_the_json_codec_cannot_handle_is_a_payload_error() -> None:
    from aion_ray.model.payload import Payload, decode

    with pytest.raises(aion.PayloadError, match="codec='pickle'"):
        decode(Payload(value={}), Opaque)
