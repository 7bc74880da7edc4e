"""Workflows and activities for the engine-on-Ray tests (importable by Ray workers)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import aion_ray as aion


def bump(path: str) -> int:
    """Count one run of a side effect in a file (survives any process)."""
    with open(path, "a") as file:
        file.write("x")
    return Path(path).stat().st_size


@aion.activity(local=True)
def add(a: int, b: int) -> int:
    return a + b


@aion.activity
def double(x: int) -> int:
    return 2 * x


@aion.activity(retry=aion.RetryPolicy(max_attempts=4, initial_interval=0.05, backoff=1.0))
def flaky(counter: str, failures: int) -> int:
    """Fails its first ``failures`` runs."""
    runs = bump(counter)
    if runs <= failures:
        raise ConnectionError(f"transient failure {runs}")
    return runs


@aion.activity(retry=aion.RetryPolicy(max_attempts=2, initial_interval=0.01))
def always_fails(reason: str) -> int:
    raise ValueError(reason)


@aion.activity(retry=aion.RetryPolicy(max_attempts=5, initial_interval=0.05), num_cpus=0)
def slow_step(counter: str, seconds: float) -> int:
    runs = bump(counter)
    time.sleep(seconds)
    return runs


@aion.activity(local=True)
def record(path: str, line: str) -> None:
    with open(path, "a") as file:
        file.write(line + "\n")


@aion.workflow
async def one_local(ctx: aion.WorkflowContext, n: int) -> int:
    return await ctx.run(add, n, 1)


@aion.workflow
async def one_remote(ctx: aion.WorkflowContext, n: int) -> int:
    return await ctx.run(double, n)


@aion.workflow
async def steps(ctx: aion.WorkflowContext, n: int) -> int:
    total = 0
    for i in range(n):
        total = await ctx.run(add, total, i)
    return total


@aion.workflow
async def retrying(ctx: aion.WorkflowContext, args: tuple[str, int]) -> int:
    return await ctx.run(flaky, args[0], args[1])


@aion.workflow
async def failing(ctx: aion.WorkflowContext, reason: str) -> int:
    return await ctx.run(always_fails, reason)


@aion.workflow
async def waits_for_signal(ctx: aion.WorkflowContext, name: str) -> str:
    progress = {"state": "waiting"}
    ctx.set_query_handler("progress", lambda: progress["state"])
    value = await ctx.wait_signal(name)
    progress["state"] = "got it"
    return str(value)


@aion.workflow
async def sleeps_then_adds(ctx: aion.WorkflowContext, seconds: float) -> int:
    await ctx.sleep(seconds)
    return await ctx.run(add, 1, 1)


@aion.workflow
async def compensating(ctx: aion.WorkflowContext, log: str) -> str:
    await ctx.run(record, log, "booked")
    try:
        await ctx.wait_signal("never")
    except asyncio.CancelledError:
        await ctx.run(record, log, "refunded")
        raise
    return "done"


@aion.activity(retry=aion.RetryPolicy(max_attempts=5, initial_interval=0.05), num_cpus=0)
def held_step(counter: str, release: str) -> int:
    """Counts its run, then waits (at most 120 s) until the test creates ``release``: the
    test decides when it ends, so a kill always finds it running."""
    runs = bump(counter)
    deadline = time.monotonic() + 120
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.02)
    return runs


@aion.workflow
async def crash_course(ctx: aion.WorkflowContext, args: tuple[str, str, str]) -> list[int]:
    """A counted Ray-task step, then a counted one held until the test releases it (the
    test kills the host meanwhile); returns the run count each step saw."""
    first_counter, held_counter, release = args
    first = await ctx.run(slow_step, first_counter, 0.0)
    held = await ctx.run(held_step, held_counter, release)
    return [first, held]


@aion.workflow
async def parent(ctx: aion.WorkflowContext, n: int) -> int:
    child = await ctx.run_child(one_remote, n)
    return child + 1


@aion.workflow
async def pid_of_host(ctx: aion.WorkflowContext) -> int:
    return await ctx.run(host_pid_activity)


@aion.activity(local=True)
def host_pid_activity() -> int:
    return os.getpid()


@aion.workflow
async def parent_of_waiter(ctx: aion.WorkflowContext, child_id: str) -> str:
    child = ctx.start_child(waits_for_signal, "go", id=child_id)
    return "child said " + await child


@aion.workflow
async def messenger(ctx: aion.WorkflowContext, target: str) -> str:
    await ctx.signal_workflow(target, "go", "from a workflow")
    return "sent"


@aion.activity(timeout=0.5, retry=aion.RetryPolicy(max_attempts=1), num_cpus=0)
def too_slow(marker: str) -> int:
    bump(marker)
    time.sleep(30)
    return 1


@aion.workflow
async def times_out(ctx: aion.WorkflowContext, marker: str) -> int:
    return await ctx.run(too_slow, marker)


@aion.activity(retry=aion.RetryPolicy(max_attempts=1), num_cpus=0)
def ticks(marker: str) -> int:
    """Writes its pid as the first line of ``marker``, then a tick every 50 ms for 90 s: the
    file stops growing only when this task ends."""
    with open(marker, "a") as file:
        file.write(f"{os.getpid()}\n")
        for _ in range(1800):
            file.write("x")
            file.flush()
            time.sleep(0.05)
    return 1


@aion.workflow
async def cancellable_task(ctx: aion.WorkflowContext, marker: str) -> int:
    return await ctx.run(ticks, marker, timeout=None)


@aion.activity(local=True)
def held_locally(release: str) -> str:
    """Runs in its host until the test creates ``release`` (at most 120 s)."""
    deadline = time.monotonic() + 120
    while not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.02)
    return "released"


@aion.workflow
async def busy_locally(ctx: aion.WorkflowContext, release: str) -> str:
    ctx.set_query_handler("phase", lambda: "working")
    return await ctx.run(held_locally, release)


@aion.activity(heartbeat_timeout=2.0, retry=aion.RetryPolicy(max_attempts=3, initial_interval=0.05))
def hangs_once(counter: str) -> str:
    """Attempt 1 hangs without a heartbeat; attempt 2 beats while it works."""
    if bump(counter) == 1:
        time.sleep(60)
    for step in range(5):
        aion.activity.heartbeat({"step": step})  # type: ignore[attr-defined]
        time.sleep(0.3)
    return "trained"


@aion.workflow
async def watched(ctx: aion.WorkflowContext, counter: str) -> str:
    return await ctx.run(hangs_once, counter)


@aion.activity(local=True, heartbeat_timeout=1.2)
def beats_locally() -> int:
    for step in range(2):
        aion.heartbeat(step)
        time.sleep(0.45)
    return 2


@aion.workflow
async def watched_locally(ctx: aion.WorkflowContext) -> int:
    return await ctx.run(beats_locally)


@aion.activity(local=True, retry=aion.RetryPolicy(max_attempts=10, initial_interval=0.01))
def kill_my_host() -> None:
    """Crashes the actor hosting the workflow (a local activity runs in it)."""
    os.kill(os.getpid(), 9)


@aion.workflow
async def crash_loop(ctx: aion.WorkflowContext) -> None:
    await ctx.run(kill_my_host)


@aion.workflow(workflows_per_actor=3)
async def shares_an_actor(ctx: aion.WorkflowContext, name: str) -> str:
    """Hosted three to an actor, whatever the engine's workflows_per_actor."""
    return str(await ctx.wait_signal(name))


@aion.workflow(workflows_per_actor=1)
async def keeps_an_actor(ctx: aion.WorkflowContext, name: str) -> str:
    """Hosted alone, whatever the engine's workflows_per_actor."""
    return str(await ctx.wait_signal(name))


@aion.workflow(idle_timeout=0.2)
async def parks_quickly(ctx: aion.WorkflowContext, name: str) -> str:
    """Suspended after 0.2 s blocked, whatever the engine's idle_timeout."""
    return str(await ctx.wait_signal(name))


@aion.workflow
async def answers(ctx: aion.WorkflowContext, n: int) -> int:
    """Doubles ``n`` in a local step, answers the query "n", then waits for "add"."""
    ctx.set_query_handler("n", lambda: n)
    doubled = await ctx.run(double, n, local=True)
    return doubled + int(await ctx.wait_signal("add"))


@aion.workflow
async def relays(ctx: aion.WorkflowContext, target: str) -> str:
    """Waits for "send", then signals ``target`` "go" and ends."""
    ctx.set_query_handler("ready", lambda: True)
    await ctx.wait_signal("send")
    await ctx.signal_workflow(target, "go", "relayed")
    return "relayed"


@aion.workflow
async def spawns_on_signal(ctx: aion.WorkflowContext, n: int) -> int:
    """Waits for "spawn", then runs ``one_remote(n)`` as its child."""
    ctx.set_query_handler("ready", lambda: True)
    await ctx.wait_signal("spawn")
    return await ctx.run_child(one_remote, n)
