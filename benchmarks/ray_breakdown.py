"""Where a one-step workflow's milliseconds go, start to result, with a local and a Ray-task
activity, beside a bare actor call and the floor of the same shape measured in the same run.

Run with ``make bench-breakdown`` (or ``python -m benchmarks.ray_breakdown [--runs N]
[--plain]``). Every process of the cluster writes wall-clock marks as the workflow passes
(``ray_marks``: the host's start, its appends sent and acknowledged, the store's receipt,
staging on its writer thread and reply, the activity's dispatch and report, the end handed
to result waiters, the result call); the activity itself stamps when it ran, and the client
marks its own calls. For each kind the table lists every mark at its median offset from the
client's start call, with the median gap from the mark before it: a step that is slow shows
as a wide gap. ``--plain`` measures the same workflows with nothing installed (the wrappers
cost microseconds, but an A/B of an optimisation should compare like with like).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import ray

import aion_ray as aion
from benchmarks import ray_engine as engine
from benchmarks import ray_marks
from benchmarks.ray_bench import warm
from benchmarks.ray_floor import Floor
from benchmarks.report import percentile

ROOT = Path(__file__).resolve().parents[1]
MS = 1e6
"""Nanoseconds per millisecond."""
POOL_MIN = 2
"""The default pool's warm floor (``aion.connect``)."""


@aion.activity(local=True)
def stamp_local(_: int) -> int:
    return time.time_ns()


@aion.activity(num_cpus=0)
def stamp_task(_: int) -> int:
    return time.time_ns()


@aion.workflow
async def probe(ctx: aion.WorkflowContext, local: bool) -> int:
    """One step that returns when it ran (wall-clock ns)."""
    return int(await ctx.run(stamp_local if local else stamp_task, 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100, help="timed runs per kind")
    parser.add_argument("--plain", action="store_true", help="no marks: latencies only")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="aion-ray-breakdown-"))
    marks = directory / "marks"
    marks.mkdir()
    runtime_env = {}
    if not args.plain:
        runtime_env = {
            "worker_process_setup_hook": "benchmarks.ray_marks.install",
            # The hook runs before Ray puts the driver's directory on the workers' path.
            "env_vars": {ray_marks.MARKS_ENV: str(marks), "PYTHONPATH": str(ROOT)},
        }
    if not args.plain:
        ray_marks.install_client(marks)
    engine.start_ray("aion-breakdown", runtime_env)
    try:
        print(run(directory, marks, args.runs, plain=args.plain))
    finally:
        ray.shutdown()


def run(directory: Path, marks: Path, n: int, *, plain: bool) -> str:
    bare = percentile(engine.bare_call_ms(200), 0.5)
    floor = Floor(str(directory / "floor.duckdb"))
    floors = {local: floor.latencies(n, 1, not local).p50 for local in (True, False)}
    floor.close()
    client = aion.connect(store_path=directory / "engine.duckdb", namespace="breakdown")
    warm(client, POOL_MIN)  # a start the client cannot route goes through the registry
    lines = [f"bare actor call p50 {bare:.2f} ms (yardstick, this run)"]
    for local in (True, False):
        kind = "local activity" if local else "Ray-task activity"
        totals, timelines = measure(client, n, local)
        p50, p99 = percentile(totals, 0.5), percentile(totals, 0.99)
        lines.append(
            f"\none step, {kind}: p50 {p50:.2f} ms, p99 {p99:.2f} ms; floor p50 "
            f"{floors[local]:.2f} ms; x floor {p50 / floors[local]:.2f}, x bare {p50 / bare:.1f}"
        )
        if not plain:
            lines.append(table(timelines, ray_marks.read(marks)))
    client.shutdown()
    return "\n".join(lines)


def measure(
    client: aion.Client, n: int, local: bool
) -> tuple[list[float], dict[str, dict[str, int]]]:
    """``n`` timed one-step runs (after 5 warm-ups): their latencies in ms, and each run's
    client-side marks and the activity's stamp, by workflow id."""
    for _ in range(5):
        client.start(probe, local).result(timeout=60)
    totals, timelines = [], {}
    for _ in range(n):
        began = time.perf_counter()
        sent = time.time_ns()
        handle = client.start(probe, local)
        started = time.time_ns()
        ran = handle.result(timeout=60)
        ended = time.time_ns()
        totals.append((time.perf_counter() - began) * 1000)
        timelines[handle.workflow_id] = {
            "client: start sent": sent,
            "client: start returned": started,
            "activity: ran": ran,
            "client: result returned": ended,
        }
    return totals, timelines


def table(timelines: dict[str, dict[str, int]], marks: dict[str, dict[str, int]]) -> str:
    """Each mark's median offset from the start call and median (and p90) gap from the mark
    before it (in the order of the medians), over the runs that have every mark; and how
    often the client's result call reached the host only after the end was there."""
    runs = [{**timeline, **marks.get(wid, {})} for wid, timeline in timelines.items()]
    direct = [run for run in runs if "host: start in #1" in run]
    routed = len(runs) - len(direct) if direct else 0  # the registry placed those
    runs = direct or runs
    labels = set.intersection(*(set(run) for run in runs))
    offsets = {
        label: [(run[label] - run["client: start sent"]) / MS for run in runs] for label in labels
    }
    ordered = sorted(labels, key=lambda label: percentile(offsets[label], 0.5))
    rows = [f"  {'mark':<34} {'at p50':>8} {'gap p50':>8} {'gap p90':>8}  (ms, {len(runs)} runs)"]
    for before, label in zip([None, *ordered], ordered, strict=False):
        gaps = [0.0] if before is None else [(run[label] - run[before]) / MS for run in runs]
        at = percentile(offsets[label], 0.5)
        rows.append(
            f"  {label:<34} {at:8.2f} {percentile(gaps, 0.5):8.2f} {percentile(gaps, 0.9):8.2f}"
        )
    asked, ended = "host: result in #1", "host: end to waiters #1"
    if {asked, ended} <= labels:
        late = sum(run[asked] > run[ended] for run in runs) / len(runs)
        rows.append(f"  the result call reached the host after the end in {late:.0%} of runs")
    if routed:
        rows.append(f"  left out: {routed} runs started through the registry (not direct)")
    return "\n".join(rows)


if __name__ == "__main__":
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    main()
