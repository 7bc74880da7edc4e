"""More blocked workflows than slots: 24 workflows through 8 slots (``pool_size=(8, 8)``).

Each timed round starts 24 workflows at once, then signals every one, then awaits every result,
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
from benchmarks.ray_engine import progress

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


def through_slots(directory: Path, limit: float) -> dict[str, float | None]:
    """Seconds for a round of each kind (None: not done within ``limit``).

    The kinds share an engine (starting 8 pooled actors costs seconds), except after a round
    left unfinished: its workflows still hold slots, so the next kind gets a fresh engine."""
    seconds: dict[str, float | None] = {}
    client: aion.Client | None = None
    try:
        for kind, workflow in KINDS.items():
            progress(f"{WORKFLOWS} workflows through {SLOTS} slots, {kind}")
            client = client or _engine(directory, kind)
            # A round that fits the slots first: every pooled actor is up, and the
            # activity's code loaded, before the clock runs.
            asyncio.run(asyncio.wait_for(_round(client, workflow, SLOTS), WARM_UP_LIMIT))
            seconds[kind] = _timed_round(client, workflow, limit)
            if seconds[kind] is None:
                client.shutdown()
                client = None
    finally:
        if client is not None:
            client.shutdown()
    return seconds


def _engine(directory: Path, kind: str) -> aion.Client:
    name = kind.replace(" ", "-")
    return aion.connect(
        store_path=directory / f"slots-{name}.duckdb",
        namespace=f"bench-slots-{name}",
        pool_size=(SLOTS, SLOTS),
    )


def _timed_round(client: aion.Client, workflow: Any, limit: float) -> float | None:
    began = time.perf_counter()
    try:
        asyncio.run(asyncio.wait_for(_round(client, workflow, WORKFLOWS), limit))
    except TimeoutError:
        return None
    return time.perf_counter() - began
