"""Durable writes per workflow shape: one write per activation, pinned on a counting store.

A store actor costs a Ray call per write, so these counts are the engine's critical path. A
start folds its lease and lifecycle row into its first append and makes no read; an activity's
result and the next command share one append; a signal and the completion it causes share one.
Each test runs on the in-memory reference store and on a DuckDB file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import aion_ray as aion
from aion_ray.storage import DuckDBHistoryStore, InMemoryHistoryStore
from aion_ray.testing import TestEngine
from aion_ray.testing.clock import DEFAULT_START
from aion_ray.testing.counting import CountingStore

Engines = Callable[..., tuple[TestEngine, CountingStore]]


@pytest.fixture(params=["memory", "duckdb"])
def counted(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engines]:
    """A factory of TestEngines over a counting store of the parametrised kind."""
    stores: list[Any] = []

    def make(**options: Any) -> tuple[TestEngine, CountingStore]:
        inner = (
            InMemoryHistoryStore()
            if request.param == "memory"
            else DuckDBHistoryStore(tmp_path / f"h{len(stores)}.duckdb")
        )
        stores.append(inner)
        counting = CountingStore(inner)
        return TestEngine(store=counting, **options), counting

    yield make
    for store in stores:
        store.close()


@aion.activity
def step(i: int) -> int:
    return i + 1


@aion.workflow
async def one_step(ctx: aion.WorkflowContext, local: bool) -> int:
    return await ctx.run(step, 1, local=local)


@aion.workflow
async def ten_steps(ctx: aion.WorkflowContext, local: bool) -> int:
    value = 0
    for _ in range(10):
        value = await ctx.run(step, value, local=local)
    return value


@aion.workflow
async def waits_for_approval(ctx: aion.WorkflowContext) -> bool:
    approved: bool = await ctx.wait_signal("approve")
    return approved


@aion.workflow
async def sleeper(ctx: aion.WorkflowContext) -> str:
    await ctx.sleep(3600)
    return "rested"


def appends(engine: TestEngine, workflow_id: str) -> list[list[str]]:
    """The event types of each append (one commit id each), in order."""
    rows = engine.store.sql(
        f"SELECT commit_id, type FROM events WHERE workflow_id = '{workflow_id}' ORDER BY seq"
    ).to_pylist()
    grouped: dict[int, list[str]] = {}
    for row in rows:
        grouped.setdefault(row["commit_id"], []).append(row["type"])
    return list(grouped.values())


@pytest.mark.parametrize("local", [False, True])
def test_a_one_step_workflow_takes_two_writes_and_no_read(counted: Engines, local: bool) -> None:
    engine, store = counted()
    handle = engine.start(one_step, local, id="wf-one")
    assert handle.result() == 2
    assert store.writes == 2
    assert store.calls["append_batch"] == 2  # the lease and lifecycle rode with the first
    assert store.reads == 0
    kinds = [e.kind for e in engine.store.read_lifecycle("wf-one")]
    assert kinds == ["resident"]


def test_a_ten_step_workflow_takes_eleven_writes(counted: Engines) -> None:
    engine, store = counted()
    assert engine.start(ten_steps, False, id="wf-ten").result() == 10
    assert store.writes == 11
    step_append = ["ActivityCompleted", "ActivityScheduled", "ActivityStarted"]
    assert appends(engine, "wf-ten") == [
        ["WorkflowStarted", "ActivityScheduled", "ActivityStarted"],
        *[step_append] * 9,
        ["ActivityCompleted", "WorkflowCompleted"],
    ]


def test_local_steps_ride_together_to_the_next_durable_boundary(counted: Engines) -> None:
    engine, store = counted()
    assert engine.start(ten_steps, True, id="wf-local").result() == 10
    assert store.writes == 2  # the start, then all ten local results with the completion
    first, rest = appends(engine, "wf-local")
    assert first == ["WorkflowStarted", "ActivityScheduled", "ActivityStarted"]
    assert rest.count("ActivityCompleted") == 10
    assert rest[-1] == "WorkflowCompleted"


def test_a_signal_that_completes_a_workflow_takes_one_write(counted: Engines) -> None:
    engine, store = counted()
    handle = engine.start(waits_for_approval, id="wf-signal")
    store.reset()
    handle.signal("approve", True)
    assert store.writes == 1
    assert [e.type for e in handle.history()[-2:]] == ["SignalReceived", "WorkflowCompleted"]
    assert handle.result() is True


def test_timers_of_many_workflows_falling_due_together_share_one_write(counted: Engines) -> None:
    engine, store = counted()
    handles = [engine.start(sleeper, id=f"wf-sleep-{i}") for i in range(5)]
    store.reset()
    engine.sleep(3600)
    assert store.calls["append_batch"] == 1
    assert store.appended_events == 10  # TimerFired and WorkflowCompleted, five times
    assert [h.result() for h in handles] == ["rested"] * 5


def test_a_local_result_waits_no_longer_than_the_bound(counted: Engines) -> None:
    engine, store = counted(local_bound=timedelta(milliseconds=100))
    dues: list[Any] = []

    @aion.activity
    def takes_60ms(i: int) -> int:
        dues.append(engine.core.pump.next_due())  # when the held results must be appended
        engine.clock.advance(0.06)  # fake time passes while the local activity runs
        return i + 1

    @aion.workflow
    async def four_local(ctx: aion.WorkflowContext) -> int:
        value = 0
        for _ in range(4):
            value = await ctx.run(takes_60ms, value, local=True)
        return value

    assert engine.start(four_local, id="wf-bound").result() == 4
    # the start; results 1-3 (the third arrives 120 ms after the first); result 4 and the end
    assert store.writes == 3
    t0 = DEFAULT_START
    held = t0 + timedelta(seconds=0.06) + timedelta(milliseconds=100)  # result 1 + the bound
    # while activities 2 and 3 run, result 1 is held; activity 4 runs after the append
    assert dues == [None, held, held, None]
    started = ["ActivityScheduled", "ActivityStarted"]
    assert appends(engine, "wf-bound") == [
        ["WorkflowStarted", *started],
        ["ActivityCompleted", *started] * 3,
        ["ActivityCompleted", "WorkflowCompleted"],
    ]


def test_a_crash_re_runs_only_local_work_not_yet_recorded(counted: Engines) -> None:
    engine, _store = counted()
    runs: list[int] = []

    @aion.activity
    def counted_local(i: int) -> int:
        runs.append(i)
        if len(runs) == 2:
            engine.step_hook = crash_once
        return i + 1

    def crash_once() -> None:
        engine.step_hook = None
        engine.crash("wf-crash")

    @aion.workflow
    async def three_local(ctx: aion.WorkflowContext) -> int:
        value = 0
        for _ in range(3):
            value = await ctx.run(counted_local, value, local=True)
        return value

    assert engine.start(three_local, id="wf-crash").result() == 3
    # Activities 1 and 2 completed but were not recorded yet: the crash re-ran them.
    assert runs == [0, 1, 0, 1, 2]
    assert [e.type for e in engine.store.read_history("wf-crash")].count("ActivityCompleted") == 3
