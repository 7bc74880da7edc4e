"""Engine benchmarks: durable writes per workflow shape, and a one-step workflow on DuckDB.

Run with ``make bench-engine`` (or ``python -m benchmarks.engine_bench [--workflows N]``).

1. Writes, reads and store round trips per workflow shape, counted on a counting store: the
   engine's critical path (through a store actor, each write is a Ray call). Targets from the
   core-seam issue: one step (local or not) at most 2 writes, ten steps at most 11, a signal
   that completes a workflow 1.
2. A one-step workflow on the TestEngine over a DuckDB file, start to result, against the
   yardstick of a bare durable DuckDB commit measured in the same run: target p50 at most 4
   bare commits (the machine's speed drifts 3-5x between days; the ratio is what holds).
3. What one append costs by kind, on the same file settings: an ordinary step, a start (its
   lease, visibility row and lifecycle row in the same transaction) and a completion (a
   visibility update): the appends that touch visibility should stay close to ordinary ones.
4. Shipping events to a store in another process, as pickled models or as rows
   (``EncodedEvents``): the caller's and the store's CPU per event, and the bytes sent.
"""

from __future__ import annotations

import argparse
import pickle
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aion_ray as aion
from aion_ray.model import events as ev
from aion_ray.model.rows import EncodedEvents
from aion_ray.model.store import AppendRequest, AppendResult, LifecycleEntry
from aion_ray.storage import DuckDBHistoryStore, InMemoryHistoryStore
from aion_ray.storage.codec import EventColumns
from aion_ray.testing import TestEngine
from aion_ray.testing.counting import CountingStore
from benchmarks.report import Result, format_table, percentile, write_json
from benchmarks.store_bench import duckdb_commit_latencies
from benchmarks.store_workloads import HistoryStream, workflow_result

MS = 1000.0


@aion.activity
def step(i: int) -> int:
    return i + 1


@aion.workflow
async def steps(ctx: aion.WorkflowContext, shape: tuple[int, bool]) -> int:
    count, local = shape
    value = 0
    for _ in range(count):
        value = await ctx.run(step, value, local=local)
    return value


@aion.workflow
async def approval(ctx: aion.WorkflowContext) -> bool:
    approved: bool = await ctx.wait_signal("approve")
    return approved


def _steps(count: int, local: bool) -> Callable[[TestEngine, CountingStore], None]:
    def run(engine: TestEngine, store: CountingStore) -> None:
        engine.start(steps, (count, local), id="shape").result()

    return run


def _signal(engine: TestEngine, store: CountingStore) -> None:
    handle = engine.start(approval, id="shape")
    store.reset()  # count the signal alone
    handle.signal("approve", True)
    handle.result()


SHAPES: dict[str, tuple[Callable[[TestEngine, CountingStore], None], int]] = {
    "one step": (_steps(1, False), 2),
    "one local step": (_steps(1, True), 2),
    "ten steps": (_steps(10, False), 11),
    "ten local steps": (_steps(10, True), 2),
    "signal completing a workflow": (_signal, 1),
}
"""Workflow shape -> (how to run it, the most writes it may take)."""


def count_shapes() -> list[Result]:
    results = []
    for name, (run, most) in SHAPES.items():
        store = CountingStore(InMemoryHistoryStore())
        run(TestEngine(store=store), store)
        note = f"{store.reads} reads, {store.round_trips} store round trips"
        results.append(
            Result(f"writes: {name}", "writes", store.writes, target=most + 0.5, note=note)
        )
    return results


def one_step_latencies(directory: str, count: int) -> tuple[list[float], CountingStore]:
    """Start-to-result seconds of ``count`` one-step workflows on one DuckDB file."""
    inner = DuckDBHistoryStore(Path(directory) / "engine.duckdb")
    store = CountingStore(inner)
    try:
        engine = TestEngine(store=store)
        for i in range(20):  # warm up: imports, caches, the first commits of a new file
            engine.start(steps, (1, False), id=f"warm-{i}").result()
        latencies = []
        store.reset()
        for i in range(count):
            started = time.perf_counter()
            engine.start(steps, (1, False), id=f"wf-{i}").result()
            latencies.append(time.perf_counter() - started)
    finally:
        inner.close()
    return latencies, store


def measure_one_step(directory: str, count: int) -> list[Result]:
    bare = duckdb_commit_latencies(directory, count)
    latencies, store = one_step_latencies(directory, count)
    bare_p50 = percentile(bare, 0.5) * MS
    p50 = percentile(latencies, 0.5) * MS
    trips = store.round_trips / count
    return [
        Result(
            "yardstick: bare DuckDB 1-row commit",
            "ms",
            bare_p50,
            percentile(bare, 0.9) * MS,
            note="the same file settings, no store code",
        ),
        Result(
            "one-step workflow on DuckDB, start to result",
            "ms",
            p50,
            percentile(latencies, 0.9) * MS,
            target=4 * bare_p50,
            note=f"{store.writes / count:.1f} writes, {trips:.1f} store round trips per workflow",
        ),
        Result("one-step workflow / bare commit", "x", p50 / bare_p50, target=4.0),
    ]


def append_kind_latencies(directory: str, count: int) -> dict[str, list[float]]:
    """Seconds per lone append_batch of each kind, ``count`` workflows taken through
    start, one ordinary step and completion in turn."""
    store = DuckDBHistoryStore(Path(directory) / "kinds.duckdb")
    timings: dict[str, list[float]] = {"start": [], "ordinary": [], "completion": []}

    def timed(kind: str, request: AppendRequest) -> AppendResult:
        started = time.perf_counter()
        (result,) = store.append_batch([request])
        timings[kind].append(time.perf_counter() - started)
        assert result.ok, result.error
        return result

    try:
        for _ in range(count):
            s = HistoryStream()
            wid, placed = (
                s.workflow_id,
                LifecycleEntry(workflow_id=s.workflow_id, recorded_at=s.clock, kind="resident"),
            )
            first = timed(
                "start", AppendRequest(wid, [s.started()], 0, acquire="b", lifecycle=[placed])
            )
            step_events = [s.scheduled(1), s.activity_started(1)]
            timed("ordinary", AppendRequest(wid, step_events, 1, lease=first.lease))
            end = [s.activity_completed(1), s.add(ev.WorkflowCompleted, result=workflow_result())]
            timed("completion", AppendRequest(wid, end, 3, lease=first.lease))
    finally:
        store.close()
    return timings


def measure_append_kinds(directory: str, count: int) -> list[Result]:
    timings = append_kind_latencies(directory, count)
    ordinary = percentile(timings["ordinary"], 0.5) * MS
    results = []
    for kind, values in timings.items():
        p50 = percentile(values, 0.5) * MS
        note = "" if kind == "ordinary" else f"{p50 / ordinary:.2f}x an ordinary append"
        results.append(
            Result(f"append: {kind}", "ms", p50, percentile(values, 0.9) * MS, note=note)
        )
    return results


def shipping_costs(batches: list[list[Any]]) -> list[Result]:
    """Per-event CPU of sending 10-event appends pickled (as a Ray call does), each way."""
    workflow_id = batches[0][0].workflow_id
    sent = {
        "models": [pickle.dumps(batch) for batch in batches],
        "rows": [pickle.dumps(EncodedEvents.of(workflow_id, batch)) for batch in batches],
    }
    events = sum(len(batch) for batch in batches)

    def per_event(work: Callable[[], object]) -> float:
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            work()
            runs.append((time.perf_counter() - started) / events * 1e6)
        return percentile(runs, 0.5)

    def store_rows() -> None:
        for data in sent["rows"]:
            encoded = pickle.loads(data)
            encoded.decode()  # the guard checks models
            EventColumns.of_rows(encoded.workflow_id, encoded.rows)

    costs = {
        ("models", "caller"): per_event(lambda: [pickle.dumps(b) for b in batches]),
        ("models", "store"): per_event(
            lambda: [EventColumns.of(pickle.loads(d)) for d in sent["models"]]
        ),
        ("rows", "caller"): per_event(
            lambda: [pickle.dumps(EncodedEvents.of(workflow_id, b)) for b in batches]
        ),
        ("rows", "store"): per_event(store_rows),
    }
    return [
        Result(
            f"ship as {form}: {side}",
            "us/event",
            cost,
            note=f"{sum(map(len, sent[form])) / events:.0f} B/event sent"
            if side == "caller"
            else "",
        )
        for (form, side), cost in costs.items()
    ]


def measure_shipping() -> list[Result]:
    s = HistoryStream()
    events = [s.started()]
    for i in range(1, 400):
        events += [s.scheduled(i), s.activity_started(i), s.activity_completed(i)]
    return shipping_costs([events[i : i + 10] for i in range(0, len(events), 10)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workflows", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aion-engine-bench-") as directory:
        results = [
            *count_shapes(),
            *measure_one_step(directory, args.workflows),
            *measure_append_kinds(directory, args.workflows),
            *measure_shipping(),
        ]
    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    print(format_table(results))
    config: dict[str, Any] = {"workflows": args.workflows}
    machine = {"python": platform.python_version(), "machine": platform.machine()}
    write_json(Path("bench-results/engine.json"), machine, config, results)


if __name__ == "__main__":
    main()
