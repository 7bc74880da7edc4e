"""The pump under faults a review found: lost acknowledgements, cancelled and retried local
activities, arrivals while local work runs, and a driver replaced while work for it waits.
Each runs on the in-memory reference store and on a DuckDB file (the ``store`` fixture).
These drive the TestEngine's blocking loop; ``test_async_pump.py`` puts the same faults to the
AsyncHost's own pump, the one the Ray hosts run."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

import aion_ray as aion
from aion_ray.engine.activation import ActivationBuffer
from aion_ray.errors import StoreError
from aion_ray.model import events as ev
from aion_ray.model.store import AppendRequest, AppendResult
from aion_ray.storage import HistoryStore
from aion_ray.testing import TestEngine
from aion_ray.testing.clock import DEFAULT_START


class LosesAcknowledgement:
    """A real store whose first matching batch commits, then reports an unknown outcome."""

    def __init__(self, store: HistoryStore, losing: Any) -> None:
        self.store, self.losing, self.lost = store, losing, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def append_batch(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        results = self.store.append_batch(requests)
        if not self.lost and any(self.losing(request) for request in requests):
            self.lost += 1
            raise StoreError("connection lost after commit")
        return results


@aion.workflow
async def naps(ctx: aion.WorkflowContext) -> int:
    await ctx.sleep(10)
    return 7


@aion.workflow
async def parent(ctx: aion.WorkflowContext) -> int:
    result: int = await ctx.run_child(naps, id="child")
    return result


def ends(workflow_id: str) -> Any:
    return lambda r: (
        r.workflow_id == workflow_id and any(isinstance(e, ev.TERMINAL_EVENTS) for e in r.events)
    )


def test_a_lost_acknowledgement_of_a_childs_end_still_reaches_the_parent(
    store: HistoryStore,
) -> None:
    flaky = LosesAcknowledgement(store, ends("child"))
    engine = TestEngine(store=flaky)
    assert engine.start(parent, id="parent").result(timeout=3600) == 7
    assert flaky.lost == 1
    assert [e.type for e in store.read_history("child")].count("WorkflowCompleted") == 1


def test_a_lost_acknowledgement_of_a_start_is_recognised(store: HistoryStore) -> None:
    flaky = LosesAcknowledgement(store, lambda r: r.acquire is not None)
    engine = TestEngine(store=flaky)
    handle = engine.start(naps, id="wf-lost")
    assert flaky.lost == 1
    assert engine.driver("wf-lost") is not None
    assert handle.result(timeout=3600) == 7
    assert [e.type for e in store.read_history("wf-lost")].count("WorkflowStarted") == 1
    assert len(store.read_lifecycle("wf-lost")) == 1


ALWAYS: list[int] = []


@aion.activity(retry=aion.RetryPolicy(max_attempts=4, initial_interval=1.0))
def always_fails(i: int) -> int:
    ALWAYS.append(i)
    raise RuntimeError("boom")


@aion.workflow
async def retries_locally(ctx: aion.WorkflowContext) -> int:
    return await ctx.run(always_fails, 1, local=True)


def test_a_local_activity_is_retried_to_its_limit(store: HistoryStore) -> None:
    ALWAYS.clear()
    engine = TestEngine(store=store)
    with pytest.raises(aion.WorkflowFailedError, match="after 4 attempt"):
        engine.start(retries_locally, id="wf-retry").result(timeout=3600)
    assert len(ALWAYS) == 4
    assert store.due_timers(DEFAULT_START + timedelta(days=1)) == []


@aion.activity
def quick(i: int) -> int:
    return i


@aion.workflow
async def cancels_local_then_waits(ctx: aion.WorkflowContext) -> str:
    task = asyncio.create_task(ctx.run(quick, 1, local=True))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await ctx.sleep(10)
    first = await ctx.wait_signal("a")
    second = await ctx.wait_signal("b")
    return f"{first}{second}"


@aion.workflow
async def sends_a(ctx: aion.WorkflowContext) -> None:
    await ctx.signal_workflow("wf-target", "a", "x")


def test_arrivals_after_a_cancelled_local_activity_are_recorded_at_once(
    store: HistoryStore,
) -> None:
    engine = TestEngine(store=store)
    handle = engine.start(cancels_local_then_waits, id="wf-target")
    engine.sleep(20)
    engine.start(sends_a, id="wf-sender").result()
    stored = [e.type for e in store.read_history("wf-target")]
    assert stored[-2:] == ["TimerFired", "SignalReceived"]  # durable, not held for local work
    engine.crash("wf-target")
    handle.signal("b", "y")
    assert handle.result(timeout=100) == "xy"


@aion.workflow
async def taken_child(ctx: aion.WorkflowContext) -> str:
    work = asyncio.ensure_future(ctx.run(quick, 1))
    await asyncio.sleep(0)
    try:
        await ctx.run_child(naps, id="taken")
    except aion.WorkflowFailedError:
        return f"refused, {await work}"
    return "started"


def test_work_queued_for_a_replaced_driver_does_not_disturb_its_successor(
    store: HistoryStore,
) -> None:
    engine = TestEngine(store=store)
    engine.start(naps, id="taken").result(timeout=100)

    def crash_once() -> None:
        if engine.activity_calls["quick"] == 1:
            engine.step_hook = None
            engine.crash("wf-parent")  # the queued child start still names the old driver

    engine.step_hook = crash_once
    assert engine.start(taken_child, id="wf-parent").result(timeout=100) == "refused, 1"


def test_the_pump_says_when_held_local_results_fall_due() -> None:
    buffer = ActivationBuffer(head=3)
    bound = timedelta(milliseconds=100)
    assert buffer.due_at(bound) is None
    buffer.local_running.add((1, 1))
    buffer.local_finished(1, 1, DEFAULT_START)
    assert buffer.due_at(bound) is None  # nothing held yet
    buffer.events.append(object())  # type: ignore[arg-type]
    assert buffer.due_at(bound) == DEFAULT_START + bound
