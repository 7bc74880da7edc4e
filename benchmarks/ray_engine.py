"""The engine's paths on local Ray, measured with the calls each one makes.

The workflows the engine benchmark runs, and the measurements ``ray_bench`` reports: for each
latency path the Ray calls taken by the registry, the hosts and the store, and the store's
durable appends, are counted by the actors themselves over the measured runs.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ray

import aion_ray as aion
from aion_ray.actors.config import LOCAL_RAY_CONFIG
from aion_ray.actors.stubs import HostStub

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


def start_ray(namespace: str = "aion-bench", runtime_env: dict[str, Any] | None = None) -> None:
    """Local Ray as every benchmark runs it: two CPUs, no dashboard, idle workers kept as
    ``connect`` keeps them (as the tests)."""
    ray.init(
        runtime_env=runtime_env,
        address="local",
        num_cpus=2,
        namespace=namespace,
        log_to_driver=False,
        include_dashboard=False,
        _system_config=LOCAL_RAY_CONFIG,  # as connect() starts it
    )


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
    stats = client.registry.stats().get()
    for method, count in stats["registry"].items():
        seen[f"registry.{method}"] = count
    for method, count in stats["hosts"].items():
        seen[f"host.{method}"] = count
    for method, count in client.store.stats().get().items():
        seen[f"store.{method}"] = count
    return seen


BENCH_ONLY = ("registry.stats", "store.stats", "host.stats")
"""Calls the benchmark itself makes to read the counters."""


def calls_since(client: aion.Client, before: Counter[str]) -> Counter[str]:
    """The engine's calls since ``before`` (a ``calls`` reading), the benchmark's own left out."""
    made = calls(client) - before
    for key in BENCH_ONLY:
        made.pop(key, None)
    return made


@dataclass(frozen=True)
class Made:
    """What the engine's actors counted over ``runs`` measured runs."""

    counts: Counter[str]
    runs: int

    def per_run(self) -> dict[str, float]:
        """Every counter per run: calls by actor and method, ``store.appends`` (durable
        appends) and ``store.append_us`` (microseconds the store awaited their commits)."""
        return {key: value / self.runs for key, value in sorted(self.counts.items())}

    def note(self) -> str:
        return per_run(self.counts, self.runs)


def timed(client: aion.Client, n: int, run: Callable[[], None]) -> tuple[list[float], Made]:
    """``n`` timed runs (after 5 warm-ups) and the calls per run they made."""
    for _ in range(5):
        run()
    before = calls(client)
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        run()
        samples.append((time.perf_counter() - began) * MS)
    return samples, Made(calls_since(client, before), n)


NOT_CALLS = ("store.appends", "store.append_us")


def per_run(made: Counter[str], n: int) -> str:
    """Ray calls, durable appends and the store's commit time per run."""
    ray_calls = sum(v for k, v in made.items() if k not in NOT_CALLS) / n
    appends = made.get("store.appends", 0) / n
    in_store = made.get("store.append_us", 0) / n / 1000
    detail = ", ".join(f"{k} {v / n:g}" for k, v in sorted(made.items()) if k not in NOT_CALLS)
    return f"{ray_calls:.1f} calls ({detail}); {appends:.1f} appends taking {in_store:.1f} ms"


STARTED = time.perf_counter()


def progress(message: str) -> None:
    """What the benchmark is doing, and how long it has run (on stderr)."""
    print(f"  ... {time.perf_counter() - STARTED:5.0f} s: {message}", file=sys.stderr, flush=True)


def one_workflow(client: aion.Client, shape: tuple[int, bool]) -> Callable[[], None]:
    return lambda: client.start(chain, shape).result(timeout=60) and None


def resident_signals(client: aion.Client, n: int) -> tuple[list[float], Made]:
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
    made = calls_since(client, before)
    handle.result(timeout=60)
    return samples, Made(made, n)


def suspended_signals(directory: Path, n: int) -> tuple[list[float], Made]:
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
    made = calls_since(client, before)
    for handle in handles:
        handle.result(timeout=60)
    client.shutdown()
    return samples, Made(made, n)


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
        host = client.registry.where(handle.workflow_id).get()
        assert host is not None, f"{handle.workflow_id} is not resident"
        pid = HostStub(host, client.config.namespace).pid().get()
        os.kill(pid, signal.SIGKILL)
        killed = time.perf_counter()
        while marker.stat().st_size < 2:
            time.sleep(0.002)
        samples.append(time.perf_counter() - killed)
        handle.result(timeout=60)
    return samples
