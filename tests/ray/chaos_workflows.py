"""The chaos test's workflows (importable by Ray workers): each waits for the test's "go",
runs steps on Ray tasks with durable sleeps between them, some run a child, then each
signals its partner and waits for the partner's signal. Every result is known in advance,
and every step's run is counted in a file, so the test can tell a step that ran twice."""

from __future__ import annotations

import os

import aion_ray as aion

STEPS = 3


def partner(i: int) -> int:
    return i ^ 1


def expected(i: int) -> int:
    """The result of ``chaos(i)`` in an uninterrupted run."""
    steps = sum(10 * i + step for step in range(STEPS))
    child = 2 * i if i % 4 == 0 else 0
    return steps + child + partner(i)


@aion.activity(retry=aion.RetryPolicy(max_attempts=20, initial_interval=0.1), num_cpus=0)
def step(runs: str, workflow_id: str, i: int, n: int) -> int:
    """One step; its run is counted in ``runs/<workflow id>`` (a line per run)."""
    with open(os.path.join(runs, workflow_id), "a") as counted:
        counted.write(f"{n}\n")
    return 10 * i + n


@aion.workflow
async def child(ctx: aion.WorkflowContext, args: tuple[str, int]) -> int:
    runs, i = args
    await ctx.sleep(0.1)
    return 2 * i + 0 * await ctx.run(step, runs, ctx.info.workflow_id, 0, 0)


@aion.workflow
async def chaos(ctx: aion.WorkflowContext, args: tuple[str, int]) -> int:
    runs, i = args
    await ctx.wait_signal("go")
    total = 0
    for n in range(STEPS):
        total += await ctx.run(step, runs, ctx.info.workflow_id, i, n)
        await ctx.sleep(0.2)
    if i % 4 == 0:
        total += await ctx.run_child(child, (runs, i), id=f"{ctx.info.workflow_id}-child")
    prefix = ctx.info.workflow_id.rsplit("-", 1)[0]  # "chaos" in "chaos-7"
    await ctx.signal_workflow(f"{prefix}-{partner(i)}", "hello", i)
    return total + int(await ctx.wait_signal("hello"))
