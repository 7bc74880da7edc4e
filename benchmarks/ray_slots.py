"""More blocked workflows than slots: 24 workflows through 8 slots (``pool_size=(8, 8)``).

Each round starts 24 workflows at once, then signals every one, then awaits every result,
and times the whole. A workflow that only waits for its signal is the reference; one that
first runs an activity and then waits is the case the issue targets (at most 2x the
reference): while the pool is full, a start that waits for a slot should relieve a blocked
workflow at once, whether or not it was recently active.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aion_ray as aion

WORKFLOWS = 24
SLOTS = 8
WARM_UP_LIMIT = 300.0
"""Seconds the untimed first round may take (the pool's actors start in it): past that the
engine is broken, not slow, and the benchmark fails."""


@aion.activity(num_cpus=0)
def prepare(x: int) -> int:
    return x + 1


@aion.workflow
async def works_then_waits(ctx: aion.WorkflowContext) -> int:
    value = await ctx.run(prepare, 1)
    return value + int(await ctx.wait_signal("go"))


@aion.workflow
async def only_waits(ctx: aion.WorkflowContext) -> int:
    return int(await ctx.wait_signal("go"))


KINDS: dict[str, Any] = {"only waits": only_waits, "works then waits": works_then_waits}


async def _round(client: aion.Client, workflow: Any, count: int) -> None:
    handles = await asyncio.gather(*(client.start_async(workflow) for _ in range(count)))
    await asyncio.gather(*(h.signal_async("go", 1) for h in handles))
    await asyncio.gather(*(h.result_async(timeout=None) for h in handles))


def through_slots(directory: Path, kind: str, limit: float) -> float | None:
    """Seconds for a round of ``kind`` on a fresh engine (None: not done within ``limit``).

    A fresh engine per kind, so that a round left unfinished holds no slot of the next."""
    name = kind.replace(" ", "-")
    client = aion.connect(
        store_path=directory / f"slots-{name}.duckdb",
        namespace=f"bench-slots-{name}",
        pool_size=(SLOTS, SLOTS),
    )
    workflow = KINDS[kind]
    try:
        # A round that fits the slots first: every pooled actor is up, and the activity's
        # code loaded, before the clock runs.
        asyncio.run(asyncio.wait_for(_round(client, workflow, SLOTS), WARM_UP_LIMIT))
        began = time.perf_counter()
        try:
            asyncio.run(asyncio.wait_for(_round(client, workflow, WORKFLOWS), limit))
        except TimeoutError:
            return None
        return time.perf_counter() - began
    finally:
        client.shutdown()
