"""Residency and supervision in-process: the TestEngine suspends idle workflows and wakes them
by signal, timer, child outcome, cancel and query, on its fake clock; a crash is supervised
with backoff and a restart limit (the control plane's policies, as on Ray)."""

from __future__ import annotations

import asyncio

import pytest

import aion_ray as aion
from aion_ray.model import events as ev
from aion_ray.testing import TestEngine

pytestmark = pytest.mark.usefixtures("on_both_stores")
DAY = 86400.0


@aion.activity
def double(x: int) -> int:
    return 2 * x


@aion.workflow
async def approval(ctx: aion.WorkflowContext, x: int) -> int:
    ctx.set_query_handler("x", lambda: x)
    doubled = await ctx.run(double, x)
    return doubled + int(await ctx.wait_signal("approve"))


@aion.workflow
async def sleeper(ctx: aion.WorkflowContext) -> str:
    await ctx.sleep(DAY)
    return "rested"


@aion.workflow
async def parent(ctx: aion.WorkflowContext) -> int:
    return await ctx.run_child(approval, 5, id="child-of-parent") + 1


@aion.workflow
async def cancellable(ctx: aion.WorkflowContext) -> str:
    try:
        await ctx.wait_signal("never")
    except asyncio.CancelledError:
        return "cleaned up"
    return "unreachable"


@aion.workflow(idle_timeout=5.0)
async def quick_to_leave(ctx: aion.WorkflowContext) -> int:
    return int(await ctx.wait_signal("go"))


@aion.workflow
async def messenger(ctx: aion.WorkflowContext, target: str) -> str:
    await ctx.sleep(120)
    await ctx.signal_workflow(target, "approve", 10)
    return "sent"


def residency(engine: TestEngine, workflow_id: str) -> str | None:
    return engine.describe(workflow_id).residency


def suspensions(engine: TestEngine, workflow_id: str) -> int:
    return sum(e.kind == "suspended" for e in engine.store.read_lifecycle(workflow_id))


def test_an_idle_workflow_is_suspended_and_a_signal_brings_it_back() -> None:
    engine = TestEngine(idle_timeout=60.0)
    handle = engine.start(approval, 3, id="a")
    engine.sleep(59)
    assert residency(engine, "a") == "resident"
    engine.sleep(2)
    assert residency(engine, "a") == "suspended"
    assert engine.driver("a") is None
    assert suspensions(engine, "a") == 1
    handle.signal("approve", 1)  # recorded first, then replayed by a new driver
    assert [e.kind for e in engine.store.read_lifecycle("a")].count("resident") == 2
    assert handle.result() == 7
    assert engine.activity_calls["double"] == 1  # replayed, not run again


def test_a_suspended_workflow_wakes_at_its_timer() -> None:
    engine = TestEngine(idle_timeout=60.0)
    handle = engine.start(sleeper, id="s")
    engine.sleep(120)
    assert residency(engine, "s") == "suspended"
    assert handle.result() == "rested"
    fired = [e for e in handle.history() if isinstance(e, ev.TimerFired)]
    assert len(fired) == 1
    assert (fired[0].recorded_at - handle.history()[0].recorded_at).total_seconds() >= DAY


def test_a_childs_end_wakes_its_suspended_parent() -> None:
    engine = TestEngine(idle_timeout=60.0)
    handle = engine.start(parent, id="p")
    engine.sleep(120)
    assert residency(engine, "p") == "suspended"
    assert residency(engine, "child-of-parent") == "suspended"
    engine.get("child-of-parent").signal("approve", 1)
    assert handle.result() == 12


def test_a_cancel_is_recorded_for_a_suspended_workflow_which_then_cleans_up() -> None:
    engine = TestEngine(idle_timeout=60.0)
    handle = engine.start(cancellable, id="c")
    engine.sleep(61)
    assert residency(engine, "c") == "suspended"
    assert handle.cancel("superseded") is True
    assert handle.result() == "cleaned up"
    assert handle.cancel("again") is False


def test_a_query_makes_a_suspended_workflow_resident() -> None:
    engine = TestEngine(idle_timeout=60.0)
    handle = engine.start(approval, 4, id="q")
    engine.sleep(61)
    assert residency(engine, "q") == "suspended"
    assert handle.query("x") == 4
    assert residency(engine, "q") == "resident"


def test_a_signal_from_another_workflow_reaches_a_suspended_one() -> None:
    engine = TestEngine(idle_timeout=60.0)
    target = engine.start(approval, 1, id="target")
    engine.start(messenger, "target", id="sender")
    engine.sleep(61)
    assert residency(engine, "target") == "suspended"
    assert target.result() == 12


def test_a_types_own_idle_timeout_wins() -> None:
    engine = TestEngine(idle_timeout=600.0)
    engine.start(quick_to_leave, id="quick")
    engine.start(cancellable, id="slow")
    engine.sleep(10)
    assert (residency(engine, "quick"), residency(engine, "slow")) == ("suspended", "resident")


def test_without_an_idle_timeout_nothing_is_suspended() -> None:
    engine = TestEngine()
    engine.start(sleeper, id="s")
    engine.sleep(DAY / 2)
    assert residency(engine, "s") == "resident"


def test_a_crash_is_resumed_after_a_backoff_and_failed_past_the_restart_limit() -> None:
    engine = TestEngine(restart_limit=(2, 60.0))
    handle = engine.start(approval, 3, id="crashy")
    engine.crash("crashy")
    assert residency(engine, "crashy") == "suspended"  # backing off
    engine.sleep(1)
    assert residency(engine, "crashy") == "resident"
    engine.crash("crashy")
    engine.sleep(1)
    engine.crash("crashy")  # the third death within 60 s: past the limit of 2
    with pytest.raises(aion.WorkflowFailedError) as failed:
        handle.result()
    assert failed.value.cause.type == "RestartIntensityExceeded"
