"""Signals (per-name FIFO, kept when early, timeouts, terminal runs) and read-only queries."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from pydantic import BaseModel

import aion_ray as aion
from aion_ray.model import events as ev
from aion_ray.testing import TestEngine

pytestmark = pytest.mark.usefixtures("on_both_stores")

HOUR = 3600.0


class Approval(BaseModel):
    by: str
    ok: bool


def of_type(events: list[ev.Event], cls: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


def comparable(events: list[ev.Event]) -> list[dict[str, Any]]:
    """Events without their run id (run ids are random per engine)."""
    return [e.model_dump(exclude={"run_id"}) for e in events]


# --- signals --------------------------------------------------------------------------------


@aion.workflow
async def collector(ctx: aion.WorkflowContext) -> list[Any]:
    await ctx.sleep(HOUR)  # the signals all arrive while the workflow sleeps
    return [
        await ctx.wait_signal("a"),
        await ctx.wait_signal("a"),
        await ctx.wait_signal("b"),
        await ctx.wait_signal("a"),
    ]


def test_early_signals_are_kept_in_history_and_consumed_fifo_per_name() -> None:
    engine = TestEngine()
    handle = engine.start(collector, id="wf-fifo")
    for name, payload in [("a", 1), ("b", "x"), ("a", 2), ("a", 3), ("b", "unused")]:
        handle.signal(name, payload)
    history = handle.history()
    received = of_type(history, ev.SignalReceived)
    assert [(s.name, s.payload.value) for s in received] == [
        ("a", 1),
        ("b", "x"),
        ("a", 2),
        ("a", 3),
        ("b", "unused"),
    ]
    assert of_type(history, ev.TimerFired) == []  # nobody consumed them yet
    assert handle.result() == [1, 2, "x", 3]


@aion.workflow
async def waiter(ctx: aion.WorkflowContext) -> list[Any]:
    got: list[Any] = []
    ctx.set_query_handler("got", lambda: list(got))
    for _ in range(3):
        got.append(await ctx.wait_signal("item"))
    return got


def test_a_waiting_workflow_receives_each_signal_as_it_arrives() -> None:
    engine = TestEngine()
    handle = engine.start(waiter, id="wf-live-signals")
    assert handle.query("got") == []
    handle.signal("item", {"k": 1})
    assert handle.query("got") == [{"k": 1}]
    handle.signal("other", 0)
    handle.signal("item", [2])
    assert handle.query("got") == [{"k": 1}, [2]]
    handle.signal("item", None)
    assert handle.result() == [{"k": 1}, [2], None]


@aion.workflow
async def timeout_then_wait(ctx: aion.WorkflowContext) -> list[str]:
    outcomes = []
    try:
        await ctx.wait_signal("go", timeout=HOUR)
        outcomes.append("signalled")
    except TimeoutError:
        outcomes.append(f"timeout@{ctx.now().isoformat()}")
    outcomes.append(await ctx.wait_signal("go"))
    return outcomes


def test_wait_signal_timeout_raises_and_a_later_signal_waits_for_the_next_wait() -> None:
    engine = TestEngine()
    handle = engine.start(timeout_then_wait, id="wf-signal-timeout")
    engine.sleep(2 * HOUR)
    handle.signal("go", "late")
    result = handle.result()
    history = handle.history()
    (timer,) = of_type(history, ev.TimerStarted)
    (fired,) = of_type(history, ev.TimerFired)
    assert result == [f"timeout@{timer.fire_at.isoformat()}", "late"]
    assert fired.recorded_at == timer.fire_at


def test_a_signal_before_the_timeout_cancels_the_timer() -> None:
    engine = TestEngine()
    handle = engine.start(timeout_then_wait, id="wf-signal-in-time")
    engine.sleep(HOUR / 2)
    handle.signal("go", "first")
    handle.signal("go", "second")
    assert handle.result() == ["signalled", "second"]
    history = handle.history()
    assert len(of_type(history, ev.TimerCancelled)) == 1
    assert of_type(history, ev.TimerFired) == []


@aion.workflow
async def typed_signal(ctx: aion.WorkflowContext) -> str:
    approval = await ctx.wait_signal("approve", result_type=Approval)
    assert isinstance(approval, Approval)
    return f"{approval.by}:{approval.ok}"


def test_signal_payload_decodes_to_result_type() -> None:
    engine = TestEngine()
    handle = engine.start(typed_signal, id="wf-typed-signal")
    handle.signal("approve", Approval(by="ana", ok=True))
    assert handle.result() == "ana:True"


@aion.workflow
async def quick(ctx: aion.WorkflowContext) -> int:
    return 1


def test_a_signal_to_a_completed_workflow_is_refused_and_appends_nothing() -> None:
    engine = TestEngine()
    handle = engine.start(quick, id="wf-done")
    assert handle.result() == 1
    before = handle.history()
    with pytest.raises(aion.WorkflowTerminalError) as info:
        handle.signal("late", 1)
    assert info.value.status == "completed"
    assert handle.history() == before


def test_a_signal_to_a_completed_workflow_is_refused_after_a_crash_too() -> None:
    engine = TestEngine()
    handle = engine.start(quick, id="wf-done-crash")
    handle.result()
    before = handle.history()
    engine.crash()
    with pytest.raises(aion.WorkflowTerminalError):
        handle.signal("late", 1)
    assert handle.history() == before


def test_an_unencodable_signal_payload_is_refused_and_appends_nothing() -> None:
    engine = TestEngine()
    handle = engine.start(waiter, id="wf-bad-payload")
    before = handle.history()
    with pytest.raises(aion.PayloadError):
        handle.signal("item", object())
    assert handle.history() == before


# --- queries --------------------------------------------------------------------------------


@aion.activity
def step(name: str) -> str:
    return name.upper()


@aion.workflow
async def progress(ctx: aion.WorkflowContext) -> dict[str, Any]:
    state: dict[str, Any] = {"stage": "starting", "done": []}
    ctx.set_query_handler("progress", lambda: dict(state))
    ctx.set_query_handler("done_count", lambda: len(state["done"]))
    ctx.set_query_handler("has", lambda item: item in state["done"])
    ctx.set_query_handler("explode", lambda: 1 / 0)
    for name in ("ingest", "train"):
        state["done"].append(await ctx.run(step, name))
    state["stage"] = "awaiting approval"
    await ctx.wait_signal("approve")
    state["stage"] = "sleeping"
    await ctx.sleep(HOUR)
    state["stage"] = "finished"
    return state


def test_queries_reflect_state_at_the_last_yield_point() -> None:
    engine = TestEngine()
    handle = engine.start(progress, id="wf-progress")
    assert handle.query("progress") == {"stage": "awaiting approval", "done": ["INGEST", "TRAIN"]}
    assert handle.query("done_count") == 2
    assert handle.query("has", "TRAIN") is True
    handle.signal("approve")
    assert handle.query("progress")["stage"] == "sleeping"
    assert handle.result() == {"stage": "finished", "done": ["INGEST", "TRAIN"]}


def test_queries_never_change_history() -> None:
    quiet, asked = TestEngine(), TestEngine()
    quiet_handle = quiet.start(progress, id="wf-q")
    asked_handle = asked.start(progress, id="wf-q")
    for _ in range(3):
        asked_handle.query("progress")
        with pytest.raises(aion.QueryError):
            asked_handle.query("explode")
    quiet_handle.signal("approve")
    asked_handle.signal("approve")
    asked_handle.query("progress")
    quiet_handle.result()
    asked_handle.result()
    assert comparable(asked_handle.history()) == comparable(quiet_handle.history())


def test_unknown_query_names_the_registered_handlers() -> None:
    engine = TestEngine()
    handle = engine.start(progress, id="wf-unknown-query")
    with pytest.raises(aion.QueryError) as info:
        handle.query("nope")
    message = str(info.value)
    assert "nope" in message
    for name in ("done_count", "explode", "has", "progress"):
        assert name in message


def test_a_failing_handler_is_a_query_error_and_the_workflow_keeps_running() -> None:
    engine = TestEngine()
    handle = engine.start(progress, id="wf-explode")
    before = handle.history()
    with pytest.raises(aion.QueryError) as info:
        handle.query("explode")
    assert "ZeroDivisionError" in str(info.value)
    assert handle.history() == before
    assert handle.describe().status == aion.WorkflowStatus.RUNNING
    handle.signal("approve")
    assert handle.result()["stage"] == "finished"


@aion.workflow
async def sneaky(ctx: aion.WorkflowContext) -> str:
    async def async_handler() -> int:
        await ctx.sleep(5)
        return 1

    ctx.set_query_handler("upsert", lambda: ctx.upsert_search_attributes({"x": 1}))
    ctx.set_query_handler("sleep", lambda: ctx.sleep(5))
    ctx.set_query_handler("async", async_handler)
    ctx.set_query_handler("patched", lambda: ctx.patched("v9"))
    ctx.set_query_handler("child", lambda: ctx.start_child(quick))
    ctx.set_query_handler("ok", lambda: "fine")
    await ctx.wait_signal("finish")
    return "finished"


@pytest.mark.parametrize("query", ["upsert", "sleep", "async", "patched", "child"])
def test_a_handler_calling_a_durable_primitive_fails_and_records_nothing(query: str) -> None:
    engine = TestEngine()
    handle = engine.start(sneaky, id=f"wf-sneaky-{query}")
    before = handle.history()
    with pytest.raises(aion.QueryError):
        handle.query(query)
    engine.sleep(60)
    assert handle.history() == before
    assert handle.query("ok") == "fine"
    handle.signal("finish")
    assert handle.result() == "finished"
    assert [e.type for e in handle.history()] == [
        "WorkflowStarted",
        "SignalReceived",
        "WorkflowCompleted",
    ]


@aion.workflow
async def random_state(ctx: aion.WorkflowContext) -> float:
    state: dict[str, float] = {}
    ctx.set_query_handler("peek", lambda: ctx.random())
    ctx.set_query_handler("value", lambda: dict(state))
    await ctx.wait_signal("go")
    state["v"] = ctx.random()
    await ctx.wait_signal("done")
    return state["v"]


def test_a_query_cannot_perturb_the_workflows_random_stream() -> None:
    engine = TestEngine()
    handle = engine.start(random_state, id="wf-random-query")
    for _ in range(2):
        with contextlib.suppress(aion.QueryError):  # refusing random() here is fine too
            handle.query("peek")
    handle.signal("go")
    live = handle.query("value")
    engine.rebuild_runs()  # what any replay of this history computes
    assert handle.query("value") == live


def test_a_query_on_a_finished_workflow_is_a_query_error() -> None:
    engine = TestEngine()
    handle = engine.start(progress, id="wf-finished-query")
    handle.signal("approve")
    handle.result()
    with pytest.raises(aion.QueryError):
        handle.query("progress")
