"""Random workflow programs for the property tests: data, plus one workflow that runs them.

A program is a list of steps (activities, fan-outs, flaky activities, sleeps, signal waits
with and without timeouts). ``interpreter`` runs a program as a workflow; ``EXECUTED`` counts
how often each activity call site really ran, so tests can tell re-executions apart.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

from hypothesis import strategies as st

import aion_ray as aion

EXECUTED: collections.Counter[str] = collections.Counter()
SIGNALS = ("go", "stop")

Step = list[Any]


@aion.activity(retry=aion.RetryPolicy(max_attempts=5, initial_interval=2.0, backoff=3.0))
def echo(token: str, value: int) -> int:
    EXECUTED[token] += 1
    return value * 2


@aion.activity(retry=aion.RetryPolicy(max_attempts=5, initial_interval=1.0))
def flaky(token: str, failures: int) -> str:
    EXECUTED[token] += 1
    if EXECUTED[token] <= failures:
        raise ConnectionError(f"{token} attempt {EXECUTED[token]} failed")
    return token


async def _step(ctx: aion.WorkflowContext, index: int, step: Step) -> Any:
    kind = step[0]
    if kind == "activity":
        return await ctx.run(echo, f"{index}", step[1])
    if kind == "fanout":
        calls = [ctx.run(echo, f"{index}.{i}", v) for i, v in enumerate(step[1])]
        return await asyncio.gather(*calls)
    if kind == "flaky":
        return await ctx.run(flaky, f"{index}", step[1])
    if kind == "sleep":
        await ctx.sleep(step[1])
        return ctx.now().isoformat()
    if kind == "signal":
        return await ctx.wait_signal(step[1])
    try:
        return await ctx.wait_signal(step[1], timeout=step[2])
    except TimeoutError:
        return "timed out"


@aion.workflow
async def interpreter(ctx: aion.WorkflowContext, program: list[Step]) -> list[Any]:
    outcomes: list[Any] = []
    ctx.set_query_handler("done", lambda: len(outcomes))
    try:
        for index, step in enumerate(program):
            outcomes.append(await _step(ctx, index, step))
    except asyncio.CancelledError:
        outcomes.append(await ctx.run(echo, "compensation", -1))
        outcomes.append("cancelled")
    outcomes.append(ctx.random())
    return outcomes


steps = st.one_of(
    st.tuples(st.just("activity"), st.integers(0, 99)),
    st.tuples(st.just("fanout"), st.lists(st.integers(0, 99), min_size=1, max_size=4)),
    st.tuples(st.just("flaky"), st.integers(0, 3)),
    st.tuples(st.just("sleep"), st.integers(1, 30 * 86400)),
    st.tuples(st.just("signal"), st.sampled_from(SIGNALS)),
    st.tuples(st.just("signal_timeout"), st.sampled_from(SIGNALS), st.integers(1, 7200)),
).map(list)
programs = st.lists(steps, min_size=1, max_size=8)
arrivals = st.lists(
    st.tuples(st.integers(0, 40 * 86400), st.sampled_from(SIGNALS), st.integers(0, 9)),
    max_size=6,
).map(sorted)
cancel_times = st.none() | st.integers(0, 40 * 86400)
