"""The engine on local Ray: latency, throughput and recovery, with the calls each path makes.

Run with ``make bench-ray`` (or ``python -m benchmarks.ray_bench [--quick]``). Every number
is printed beside the yardstick measured in the same run, a bare call to an async Ray actor
(this machine's speed drifts 3-5x from day to day: the ratios are what holds). For each
latency path the Ray calls taken by the registry, the hosts and the store, and the store's
durable appends, are counted by the actors themselves over the measured runs.

Targets (engine-on-Ray issue): one-step workflow, start to result, p50 <= 5 ms with a local
activity (~8 bare calls) and <= 10 ms with a Ray task; per added step <= 1 ms local, 4 ms
Ray task; a signal to a resident waiting workflow until consumed <= 3 ms; 1,000 concurrent
one-step workflows from one driver >= 150/s by default, >= 300/s with workflows_per_actor > 1;
a killed workflow actor's workflow making progress again within 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ray

import aion_ray as aion
from benchmarks.report import Result, format_table, percentile, write_json

MS = 1000.0


@aion.activity(local=True)
def local_step(x: int) -> int:
    return x + 1


@aion.activity(num_cpus=0)
def task_step(x: int) -> int:
    return x + 1


@aion.workflow
async def chain(ctx: aion.WorkflowContext, shape: tuple[int, bool]) -> int:
    count, local = shape
    value = 0
    for _ in range(count):
        value = await ctx.run(local_step if local else task_step, value)
    return value


@aion.workflow
async def waiter(ctx: aion.WorkflowContext) -> int:
    return int(await ctx.wait_signal("go"))


@aion.workflow
async def listener(ctx: aion.WorkflowContext, count: int) -> int:
    """Consumes ``count`` signals, one at a time."""
    for _ in range(count):
        await ctx.wait_signal("go")
    return count


@aion.activity(num_cpus=0)
def marked_step(path: str, seconds: float) -> int:
    with open(path, "a") as file:
        file.write("x")
    time.sleep(seconds)
    return Path(path).stat().st_size


@aion.workflow
async def long_step(ctx: aion.WorkflowContext, path: str) -> int:
    return await ctx.run(marked_step, path, 1.0)


@ray.remote(num_cpus=0)
class Bare:
    async def ping(self) -> int:
        return 1


def bare_call_ms(n: int) -> list[float]:
    actor = Bare.remote()  # type: ignore[attr-defined]
    ray.get(actor.ping.remote())
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        ray.get(actor.ping.remote())
        samples.append((time.perf_counter() - began) * MS)
    ray.kill(actor)
    return samples


def calls(client: aion.Client) -> Counter[str]:
    """Every call the engine's actors have taken so far, by actor and method."""
    seen: Counter[str] = Counter()
    stats = ray.get(client.registry.stats.remote())
    for method, count in stats["registry"].items():
        seen[f"registry.{method}"] = count
    for method, count in stats["hosts"].items():
        seen[f"host.{method}"] = count
    for method, count in ray.get(client.store.stats.remote()).items():
        seen[f"store.{method}"] = count
    return seen


def timed(client: aion.Client, n: int, run: Callable[[], None]) -> tuple[list[float], str]:
    """``n`` timed runs (after 5 warm-ups) and the calls per run they made."""
    for _ in range(5):
        run()
    before = calls(client)
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        run()
        samples.append((time.perf_counter() - began) * MS)
    made = calls(client) - before
    made.pop("registry.stats", None)
    made.pop("store.stats", None)
    made.pop("host.stats", None)
    return samples, per_run(made, n)


NOT_CALLS = ("store.appends", "store.append_us")


def per_run(made: Counter[str], n: int) -> str:
    """Ray calls, durable appends and the store's commit time per run."""
    ray_calls = sum(v for k, v in made.items() if k not in NOT_CALLS) / n
    appends = made.get("store.appends", 0) / n
    in_store = made.get("store.append_us", 0) / n / 1000
    detail = ", ".join(f"{k} {v / n:g}" for k, v in sorted(made.items()) if k not in NOT_CALLS)
    return f"{ray_calls:.1f} calls ({detail}); {appends:.1f} appends taking {in_store:.1f} ms"


def progress(message: str) -> None:
    print(f"  ... {message}", file=sys.stderr, flush=True)


def latency(name: str, samples: list[float], target: float, bare: float, note: str) -> Result:
    return Result(
        name,
        "ms",
        percentile(samples, 0.5),
        target=target,
        note=f"p99 {percentile(samples, 0.99):.2f} ms, {percentile(samples, 0.5) / bare:.1f} bare "
        f"calls; {note}",
    )


def one_workflow(client: aion.Client, shape: tuple[int, bool]) -> Callable[[], None]:
    return lambda: client.start(chain, shape).result(timeout=60) and None


def resident_signals(client: aion.Client, n: int) -> tuple[list[float], str]:
    """Signals to a resident workflow waiting for each: ``signal`` returns once the signal
    is recorded, and the workflow consumes it in that same activation."""
    handle = client.start(listener, n + 5)
    for _ in range(5):
        handle.signal("go", 1)
    before = calls(client)
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        handle.signal("go", 1)
        samples.append((time.perf_counter() - began) * MS)
    made = calls(client) - before
    handle.result(timeout=60)
    for key in ("registry.stats", "store.stats", "host.stats"):
        made.pop(key, None)
    return samples, per_run(made, n)


def suspended_signals(directory: Path, n: int) -> tuple[list[float], str]:
    """Signals to suspended workflows: recorded by the registry, then made resident."""
    client = aion.connect(
        store_path=directory / "parked.duckdb",
        namespace="bench-parked",
        idle_timeout=0.1,
        pool_size=(2, 4),
    )
    handles = [client.start(waiter) for _ in range(n)]
    deadline = time.monotonic() + 60
    while any(h.describe().residency != "suspended" for h in handles):
        assert time.monotonic() < deadline, "workflows were not suspended"
        time.sleep(0.1)
    before = calls(client)
    samples = []
    for handle in handles:
        began = time.perf_counter()
        handle.signal("go", 1)
        samples.append((time.perf_counter() - began) * MS)
    made = calls(client) - before
    for handle in handles:
        handle.result(timeout=60)
    for key in ("registry.stats", "store.stats", "host.stats"):
        made.pop(key, None)
    client.shutdown()
    return samples, per_run(made, n)


async def burst(client: aion.Client, count: int) -> float:
    """``count`` one-step workflows started at once from this driver: completed per second."""
    began = time.perf_counter()
    handles = await asyncio.gather(*(client.start_async(chain, (1, True)) for _ in range(count)))
    await asyncio.gather(*(h.result_async(timeout=300) for h in handles))
    return count / (time.perf_counter() - began)


def recovery_seconds(client: aion.Client, directory: Path, rounds: int) -> list[float]:
    """SIGKILL the actor hosting a workflow mid-step: seconds until the step runs again."""
    samples: list[float] = []
    for i in range(rounds):
        marker = directory / f"marker-{i}"
        handle = client.start(long_step, str(marker))
        while not marker.exists():
            time.sleep(0.005)
        host = ray.get(client.registry.where.remote(handle.workflow_id))
        actor = ray.get_actor(host, namespace=client.config.namespace)
        pid: int = ray.get(actor.pid.remote())  # type: ignore[assignment]
        os.kill(pid, signal.SIGKILL)
        killed = time.perf_counter()
        while marker.stat().st_size < 2:
            time.sleep(0.002)
        samples.append(time.perf_counter() - killed)
        handle.result(timeout=60)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    n = 15 if args.quick else 100
    count = 100 if args.quick else 1000
    ray.init(address="local", num_cpus=2, namespace="aion-bench", log_to_driver=False)
    directory = Path(tempfile.mkdtemp(prefix="aion-ray-bench-"))
    results = run_all(directory, n, count)
    print(format_table(results))
    if args.json is not None:
        write_json(args.json, {"node": os.uname().nodename}, {"runs": n, "burst": count}, results)
    ray.shutdown()


def run_all(directory: Path, n: int, count: int) -> list[Result]:
    bare_samples = bare_call_ms(200)
    bare = percentile(bare_samples, 0.5)
    results = [Result("bare Ray actor call (yardstick)", "ms", bare, percentile(bare_samples, 0.9))]
    client = aion.connect(store_path=directory / "a.duckdb", namespace="bench-a", pool_size=(4, 8))
    for label, shape, target in [
        ("one step, local activity", (1, True), 5.0),
        ("one step, Ray-task activity", (1, False), 10.0),
    ]:
        progress(label)
        samples, made = timed(client, n, one_workflow(client, shape))
        results.append(latency(label, samples, target, bare, made))
    for label, local, target in [("local", True, 1.0), ("Ray task", False, 4.0)]:
        progress(f"per step, {label}")
        one, _ = timed(client, n // 2, one_workflow(client, (1, local)))
        eleven, made = timed(client, n // 2, one_workflow(client, (11, local)))
        step = (percentile(eleven, 0.5) - percentile(one, 0.5)) / 10
        results.append(
            Result(
                f"per added step, {label}",
                "ms",
                step,
                target=target,
                note=f"11 steps p50 {percentile(eleven, 0.5):.1f} ms; {made}",
            )
        )
    progress("signals")
    samples, made = resident_signals(client, n)
    results.append(latency("signal to a resident waiting workflow", samples, 3.0, bare, made))
    progress("recovery")
    recovery = recovery_seconds(client, directory, 3 if n < 50 else 5)
    results.append(
        Result(
            "killed actor: progress again after",
            "s",
            percentile(recovery, 0.5),
            target=2.0,
            note=f"max {max(recovery):.2f} s over {len(recovery)} kills",
        )
    )
    client.shutdown()
    samples, made = suspended_signals(directory, max(10, n // 5))
    results.append(latency("signal to a suspended workflow", samples, 50.0, bare, made))
    bursts: list[tuple[str, dict[str, Any], float]] = [
        ("default (workflows_per_actor=1), pool (2, 4)", {"pool_size": (2, 4)}, 150.0),
        ("default (workflows_per_actor=1), pool (8, 16)", {"pool_size": (8, 16)}, 150.0),
        ("workflows_per_actor=50", {"pool_size": (2, 4), "workflows_per_actor": 50}, 300.0),
    ]
    for label, options, target in bursts:
        burst_client = aion.connect(
            store_path=directory / f"{len(results)}.duckdb",
            namespace=f"bench-{len(results)}",
            **options,
        )
        progress(f"burst, {label}")
        before = calls(burst_client)
        rate = asyncio.run(burst(burst_client, count))
        burst_calls = calls(burst_client) - before
        for key in ("registry.stats", "store.stats", "host.stats"):
            burst_calls.pop(key, None)
        results.append(
            Result(
                f"{count} concurrent one-step, {label}",
                "wf/s",
                rate,
                target=target,
                higher_is_better=True,
                note=per_run(burst_calls, count),
            )
        )
        burst_client.shutdown()
    return results


if __name__ == "__main__":
    main()
