"""Workflows whose histories the display tests look at, run on the TestEngine."""

from __future__ import annotations

import asyncio
from collections import Counter

import aion_ray as aion

EVIL = "<script>alert('x')</script>&<img src=x onerror=alert(1)>"
"""User data that would run if a display forgot to escape it."""

tries: Counter[str] = Counter()


@aion.activity(retry=aion.RetryPolicy(max_attempts=3, initial_interval=1.0))
def flaky(name: str) -> str:
    """Fails its first attempt per name, then echoes the name."""
    tries[name] += 1
    if tries[name] == 1:
        raise RuntimeError(f"first try of {name} fails")
    return name


@aion.activity
def echo(text: str) -> str:
    return text


@aion.workflow
async def child_step(ctx: aion.WorkflowContext, text: str) -> str:
    return await ctx.run(echo, text)


@aion.workflow
async def pipeline(ctx: aion.WorkflowContext, name: str) -> str:
    """Fan-out (one flaky), a timer, a signal, a child: every kind of lane."""
    results = await asyncio.gather(ctx.run(flaky, name), ctx.run(echo, EVIL))
    await ctx.sleep(60)
    approved = await ctx.wait_signal("approve")
    child = await ctx.start_child(child_step, f"{name}-child", id=f"{ctx.info.workflow_id}-c")
    return f"{results[0]}:{approved}:{child}"


@aion.workflow
async def many_steps(ctx: aion.WorkflowContext, count: int) -> int:
    """``count`` activities in a row: a long history."""
    for index in range(count):
        await ctx.run(echo, str(index))
    return count
