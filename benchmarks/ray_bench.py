"""The engine on local Ray against its floor and a bare actor call, with the calls it makes.

Run with ``make bench-ray`` (or ``python -m benchmarks.ray_bench [--quick] [--json PATH]``).
Two yardsticks are measured in the same cluster and the same run, since this machine's speed
drifts by 2x within an hour and only ratios hold: a bare call to an async Ray actor, and the
floor of the engine's own shape (``ray_floor``: client -> host actor -> a DuckDB commit in a
store actor -> the step -> a commit -> reply, with no engine logic). Every engine path is
printed with its ratio to the floor shape it matches (``x floor``) and its size in bare calls
(``x bare``), with the Ray calls and durable appends each run made, counted by the actors.

Targets, issue 14 (the control plane): a one-step workflow, start to result, at most 1.3x the
floor with a local activity and with a Ray-task activity; per added Ray-task step at most
1.3x the floor's per-step cost; 1,000 concurrent one-step workflows from one driver at the
default hosting at least 0.15 x (1000 / bare call ms) per second, with the CPU each singleton
actor (registry, store) spends per workflow and the cluster-wide ceiling that implies; 24
workflows through 8 slots that work and then wait at most 2x those that only wait. Where
issue 14 sets none, the engine-on-Ray issue's stand: per added local step <= 1 ms, a signal
to a resident workflow <= 3 ms, to a suspended one <= 50 ms, a killed host's workflow moving
again within 2 s, and >= 300 workflows/s with workflows_per_actor > 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import ray

import aion_ray as aion
from benchmarks import ray_engine as engine
from benchmarks import ray_slots
from benchmarks.ray_cpu import CpuMeter, ceiling
from benchmarks.ray_yardsticks import Yardsticks, measure_floor
from benchmarks.report import Result, format_table, percentile, write_json

LEGEND = """\
x floor: p50 over the p50 of the floor of the same shape (one step: the same step kind; per
  added Ray-task step: the floor's; signals: the floor's one commit); rates: over the floor's.
x bare: p50 over a bare actor call's p50; rates: workflows per bare-call time.
ratio: p50 over the target (targets relative to the floor are computed in this run)."""
SINGLETONS = ["aion-registry", "aion-store"]
"""The engine's one-per-cluster actors, by their public names."""
ONE_STEP_TARGET = 1.3
STEP_TARGET = 1.3
BURST_TARGET = 0.15
SLOTS_TARGET = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    n = 15 if args.quick else 100
    count = 100 if args.quick else 1000
    slot_limit = 10.0 if args.quick else 150.0
    engine.start_ray()
    directory = Path(tempfile.mkdtemp(prefix="aion-ray-bench-"))
    results = run_all(directory, n, count, slot_limit)
    print(format_table(results))
    print(LEGEND)
    if args.json is not None:
        config = {"runs": n, "burst": count, "slot_limit_s": slot_limit}
        write_json(args.json, {"node": os.uname().nodename}, config, results)
    ray.shutdown()


def run_all(directory: Path, n: int, count: int, slot_limit: float) -> list[Result]:
    sticks, results = measure_floor(directory, n, count)
    client = aion.connect(store_path=directory / "a.duckdb", namespace="bench-a", pool_size=(4, 8))
    results += one_steps(client, sticks, n)
    results += added_steps(client, sticks, n)
    results += signals_and_recovery(client, sticks, directory, n)
    burst_kinds: list[tuple[str, dict[str, Any], float | None]] = [
        ("default (workflows_per_actor=1), pool (2, 4)", {"pool_size": (2, 4)}, None),
        ("default (workflows_per_actor=1), pool (8, 16)", {"pool_size": (8, 16)}, None),
        ("workflows_per_actor=50", {"pool_size": (2, 4), "workflows_per_actor": 50}, 300.0),
    ]
    for label, options, target in burst_kinds:
        results += bursts(directory, sticks, count, label, options, target)
    results += slots(directory, slot_limit)
    return results


def one_steps(client: aion.Client, sticks: Yardsticks, n: int) -> list[Result]:
    rows = []
    for label, shape, floor in [
        ("one step, local activity", (1, True), sticks.local),
        ("one step, Ray-task activity", (1, False), sticks.task),
    ]:
        engine.progress(label)
        samples, made = engine.timed(client, n, engine.one_workflow(client, shape))
        target = ONE_STEP_TARGET * floor.p50
        rows.append(
            sticks.latency(
                label, samples, floor.p50, target=target, note=made.note(), calls=made.per_run()
            )
        )
    return rows


def added_steps(client: aion.Client, sticks: Yardsticks, n: int) -> list[Result]:
    rows = []
    # Local steps ride on the next durable append (no commit of their own), so only the
    # Ray-task step has a floor of the same shape (a commit per step).
    for label, local, floor, target in [
        ("local", True, None, 1.0),
        ("Ray task", False, sticks.task_step, STEP_TARGET * sticks.task_step),
    ]:
        engine.progress(f"per step, {label}")
        one, _ = engine.timed(client, n // 2, engine.one_workflow(client, (1, local)))
        eleven, made = engine.timed(client, n // 2, engine.one_workflow(client, (11, local)))
        step = (percentile(eleven, 0.5) - percentile(one, 0.5)) / 10
        note = f"11 steps p50 {percentile(eleven, 0.5):.1f} ms, p99 "
        note += f"{percentile(eleven, 0.99):.1f} ms; {made.note()}"
        rows.append(
            Result(
                f"per added step, {label}",
                "ms",
                step,
                target=target,
                x_floor=step / floor if floor else None,
                x_bare=step / sticks.bare,
                note=note,
                calls=made.per_run(),
            )
        )
    return rows


def signals_and_recovery(
    client: aion.Client, sticks: Yardsticks, directory: Path, n: int
) -> list[Result]:
    engine.progress("signals")
    samples, made = engine.resident_signals(client, n)
    commit = sticks.commit.p50
    name = "signal to a resident waiting workflow"
    note = f"floor: one commit; {made.note()}"
    rows = [sticks.latency(name, samples, commit, target=3.0, note=note, calls=made.per_run())]
    engine.progress("recovery")
    recovery = engine.recovery_seconds(client, directory, 3 if n < 50 else 5)
    rows.append(
        Result(
            "killed actor: progress again after",
            "s",
            percentile(recovery, 0.5),
            target=2.0,
            x_bare=percentile(recovery, 0.5) * 1000 / sticks.bare,
            note=f"max {max(recovery):.2f} s over {len(recovery)} kills; no floor shape",
        )
    )
    client.shutdown()
    engine.progress("signals to suspended workflows")
    samples, made = engine.suspended_signals(directory, max(10, n // 5))
    name, note = "signal to a suspended workflow", f"floor: one commit; {made.note()}"
    rows.append(sticks.latency(name, samples, commit, target=50.0, note=note, calls=made.per_run()))
    return rows


def warm(client: aion.Client, hosts: int, limit: float = 60.0) -> None:
    """Wait until the client sees the pool's warm floor (connect() returns before it is
    warm; a burst measures the engine, not its start-up)."""
    deadline = time.monotonic() + limit
    while client.router.hosts() < hosts and time.monotonic() < deadline:
        time.sleep(0.05)


def bursts(
    directory: Path,
    sticks: Yardsticks,
    count: int,
    label: str,
    options: dict[str, Any],
    target: float | None,
) -> list[Result]:
    """``count`` concurrent one-step workflows on a fresh engine, and the CPU its singleton
    actors spent per workflow."""
    namespace = "bench-burst-" + re.sub(r"\W+", "-", label).strip("-")
    client = aion.connect(
        store_path=directory / f"{namespace}.duckdb", namespace=namespace, **options
    )
    engine.progress(f"burst, {label}")
    warm(client, options.get("pool_size", (2, 4))[0])
    before = engine.calls(client)
    meter = CpuMeter.start(SINGLETONS, namespace)
    rate = asyncio.run(engine.burst(client, count))
    cpu = meter.per_item(count)
    made = engine.calls_since(client, before)
    client.shutdown()
    wanted = target if target is not None else BURST_TARGET * 1000 / sticks.bare
    rows = [
        Result(
            f"{count} concurrent one-step, {label}",
            "wf/s",
            rate,
            target=wanted,
            higher_is_better=True,
            x_floor=rate / sticks.rate,
            x_bare=rate * sticks.bare / 1000,
            note=engine.per_run(made, count),
            calls=engine.Made(made, count).per_run(),
        )
    ]
    return rows + cpu_rows(cpu)


def cpu_rows(cpu: dict[str, float]) -> list[Result]:
    """A row per singleton actor: its CPU per workflow and the ceiling that implies."""
    rows = []
    limit = min(ceiling(ms) for ms in cpu.values())
    for name, ms in cpu.items():
        note = f"one core's ceiling {ceiling(ms):,.0f} wf/s"
        if name == SINGLETONS[-1]:
            note += f"; the cluster's (lowest of the singletons) {limit:,.0f} wf/s"
        rows.append(Result(f"  CPU per workflow in {name}", "ms", ms, note=note))
    return rows


def slots(directory: Path, limit: float) -> list[Result]:
    """24 workflows through 8 slots, of each kind, and the ratio of their times."""
    seconds = ray_slots.through_slots(directory, limit)
    title = f"{ray_slots.WORKFLOWS} through {ray_slots.SLOTS} slots"
    late = f"not done within {limit:.0f} s: a lower bound"
    rows = [
        Result(f"{title}: {kind}", "s", took or limit, note="" if took else late)
        for kind, took in seconds.items()
    ]
    works, waits = seconds["works then waits"], seconds["only waits"]
    if waits:
        rows.append(
            Result(
                f"{title}: works / only waits",
                "x",
                (works or limit) / waits,
                target=SLOTS_TARGET,
                note="ratio of the times" + ("" if works else f"; works: {late}"),
            )
        )
    return rows


if __name__ == "__main__":
    main()
