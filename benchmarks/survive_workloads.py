"""The workflows and measurements of ``survive_bench``: what the engine does when its parts
die, and what parked workflows cost.

Progress is read from marker files the steps append to (one line per run of a step, with its
wall-clock time), never from the engine being measured, so a dead store cannot hide it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import ray

import aion_ray as aion
from aion_ray.actors.stubs import HostStub
from aion_ray.model import events as ev

MS = 1000.0


@aion.activity(num_cpus=0, retry=aion.RetryPolicy(max_attempts=50, initial_interval=0.1))
def mark(path: str, n: int) -> int:
    """One step: a line ``n time`` appended to ``path``."""
    with open(path, "a") as marks:
        marks.write(f"{n} {time.time()}\n")
    return n


@aion.workflow
async def ticker(ctx: aion.WorkflowContext, path: str) -> int:
    """Steps on Ray tasks with short durable sleeps between them, until terminated."""
    n = 0
    while True:
        n = await ctx.run(mark, path, n + 1)
        await ctx.sleep(0.1)


@aion.workflow
async def sleeper(ctx: aion.WorkflowContext, seconds: float) -> int:
    await ctx.sleep(seconds)
    return 1


@aion.workflow
async def parked(ctx: aion.WorkflowContext) -> int:
    return int(await ctx.wait_signal("go"))


@aion.activity(num_cpus=0, retry=aion.RetryPolicy(max_attempts=5, initial_interval=0.1))
def long_mark(path: str, seconds: float) -> int:
    """A step that marks its start, then works for ``seconds``."""
    with open(path, "a") as marks:
        marks.write(f"start {time.time()}\n")
    time.sleep(seconds)
    return 1


@aion.workflow
async def working(ctx: aion.WorkflowContext, path: str) -> int:
    return await ctx.run(long_mark, path, 60.0)


# --- measurements ----------------------------------------------------------------------------


async def started(client: aion.Client, workflow: Any, args: Sequence[Any]) -> list[Any]:
    """Start one workflow per argument, 200 at a time; their handles."""
    handles: list[Any] = []
    for first in range(0, len(args), 200):
        chunk = args[first : first + 200]
        handles += await asyncio.gather(*(client.start_async(workflow, a) for a in chunk))
    return handles


def timer_lateness_ms(client: aion.Client, n: int, seconds: float = 1.0) -> list[float]:
    """``n`` concurrent sleeps of ``seconds``: how late each fired (TimerFired recorded
    after the TimerStarted's fire_at), in ms."""
    handles = asyncio.run(started(client, sleeper, [seconds] * n))
    asyncio.run(_all_results(handles))
    late = []
    for handle in handles:
        history = handle.history()
        begun = next(e for e in history if isinstance(e, ev.TimerStarted))
        fired = next(e for e in history if isinstance(e, ev.TimerFired))
        late.append((fired.recorded_at - begun.fire_at).total_seconds() * MS)
    return late


async def _all_results(handles: Sequence[Any], timeout: float = 600) -> list[Any]:
    return list(await asyncio.gather(*(h.result_async(timeout=timeout) for h in handles)))


def lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def until(done: Callable[[], bool], limit: float, what: str, pause: float = 0.01) -> float:
    """Seconds until ``done()``; AssertionError naming ``what`` after ``limit`` seconds."""
    began = time.perf_counter()
    while not done():
        assert time.perf_counter() - began < limit, f"{what}: not within {limit}s"
        time.sleep(pause)
    return time.perf_counter() - began


def restart_progress_s(
    client: aion.Client, directory: Path, kind: str, count: int
) -> tuple[float, float]:
    """SIGKILL the registry or the store while ``count`` tickers run: seconds from the kill
    until the actor answers again (restarted by Ray), and until every ticker has run two
    more steps (the second proves the first was recorded)."""
    paths = [directory / f"{kind}-{i}" for i in range(count)]
    handles = asyncio.run(started(client, ticker, [str(p) for p in paths]))
    until(lambda: all(lines(p) >= 3 for p in paths), 120, "tickers under way")
    pid = system_pid(client, kind)
    before = [lines(p) for p in paths]
    os.kill(pid, signal.SIGKILL)
    killed = time.perf_counter()
    seen: dict[str, float] = {}  # when each came true, timed from the kill

    def both() -> bool:
        if "back" not in seen and _answers(client, kind, pid):
            seen["back"] = time.perf_counter() - killed
        if "moving" not in seen and all(
            lines(p) >= b + 2 for p, b in zip(paths, before, strict=True)
        ):
            seen["moving"] = time.perf_counter() - killed
        return len(seen) == 2

    until(both, 120, f"the {kind} back and every workflow moving again", 0.02)
    back, moving = seen["back"], seen["moving"]
    for handle in handles:
        handle.terminate("the benchmark is done with it")
    return back, moving


def _answers(client: aion.Client, kind: str, old_pid: int) -> bool:
    try:
        return system_pid(client, kind, timeout=0.5) != old_pid
    except (aion.AionError, TimeoutError, ray.exceptions.RayError):
        return False


def system_pid(client: aion.Client, kind: str, timeout: float = 30) -> int:
    if kind == "registry":
        registry_pid: int = client.registry.pid().get(timeout=timeout)
        return registry_pid
    handle = client.store.handle
    pid: int = ray.get(handle.__ray_call__.remote(lambda _: os.getpid()), timeout=timeout)
    return pid


def engine_rss_bytes(client: aion.Client) -> int:
    """Resident memory of the engine's processes in this namespace: the registry, the
    store and every host."""
    pids = {system_pid(client, "registry"), system_pid(client, "store")}
    for name in ray.util.list_named_actors(all_namespaces=True):
        if name["namespace"] == client.config.namespace and name["name"].startswith("aion-host-"):
            pids.add(HostStub(name["name"], client.config.namespace).pid().get(timeout=30))
    return sum(_rss(pid) for pid in pids)


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
