"""Workflows for the node-loss script: their activities run only where a ``worker`` resource
is (importable by Ray workers as ``tests.ray.scripts.node_workflows``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import aion_ray as aion

QUICK = aion.RetryPolicy(max_attempts=5, initial_interval=0.1, backoff=1.0)


def _bump(path: str) -> int:
    """Count one run in a file (it survives any process and node)."""
    with open(path, "a") as file:
        file.write("x")
    return Path(path).stat().st_size


@aion.activity(retry=QUICK, num_cpus=0, resources={"worker": 1})
def first(counter: str) -> int:
    return _bump(counter)


@aion.activity(retry=QUICK, num_cpus=0, resources={"worker": 1})
def long_step(counter: str) -> str:
    """Its first run waits (for the node it runs on to be removed); a retry returns."""
    runs = _bump(counter)
    if runs == 1:
        time.sleep(120)
    return f"{os.path.basename(counter)} ran {runs} times"


@aion.workflow
async def on_worker(ctx: aion.WorkflowContext, directory: str) -> str:
    await ctx.run(first, os.path.join(directory, "first"))
    return await ctx.run(long_step, os.path.join(directory, "long"))
