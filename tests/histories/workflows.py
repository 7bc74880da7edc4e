"""The workflows whose recorded histories are kept as golden files in this folder.

Changing one of these in a way that breaks replay of its golden history is exactly what the
golden test is there to catch: old runs in production would break the same way. To record
a new golden history on purpose, run ``python -m tests.histories.record``.
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel

import aion_ray as aion


class TrainConfig(BaseModel):
    dataset: str
    epochs: int


class Metrics(BaseModel):
    loss: float
    accuracy: float


@aion.activity
def prepare(cfg: TrainConfig) -> list[str]:
    return [f"{cfg.dataset}/shard-{i}" for i in range(3)]


@aion.activity(retry=aion.RetryPolicy(max_attempts=4, initial_interval=5.0))
def train_shard(shard: str, epochs: int) -> Metrics:
    return Metrics(loss=1.0 / (epochs + len(shard)), accuracy=0.9)


@aion.activity
def deploy(model: str) -> str:
    return f"deployed {model}"


@aion.workflow
async def training_pipeline(ctx: aion.WorkflowContext, cfg: TrainConfig) -> dict[str, object]:
    """Activities, a fan-out, a long durable sleep, a signal with a timeout, a query."""
    stage = "preparing"
    ctx.set_query_handler("stage", lambda: stage)
    shards = await ctx.run(prepare, cfg)
    stage = "training"
    metrics = await asyncio.gather(*(ctx.run(train_shard, s, cfg.epochs) for s in shards))
    stage = "cooling down"
    await ctx.sleep(7 * 86400)
    stage = "awaiting approval"
    try:
        approved = await ctx.wait_signal("approve", timeout=86400)
    except TimeoutError:
        approved = False
    outcome = await ctx.run(deploy, cfg.dataset) if approved else "not deployed"
    return {"loss": min(m.loss for m in metrics), "outcome": outcome, "at": ctx.now().isoformat()}


@aion.workflow
async def evaluation(ctx: aion.WorkflowContext, shard: str) -> float:
    metrics = await ctx.run(train_shard, shard, 1)
    return metrics.loss


@aion.workflow
async def sweep(ctx: aion.WorkflowContext, rounds: int) -> list[float]:
    """Child workflows and continue-as-new."""
    losses = [await ctx.run_child(evaluation, f"round-{rounds}-{i}") for i in range(2)]
    ctx.upsert_search_attributes({"rounds_left": rounds})
    if rounds > 1:
        ctx.continue_as_new(rounds - 1)
    return losses


@aion.workflow
async def cancellable(ctx: aion.WorkflowContext) -> str:
    """Cancellation delivered at an await, with a compensating activity."""
    try:
        await ctx.sleep(3600)
        return "finished"
    except asyncio.CancelledError:
        await ctx.run(deploy, "rollback")
        raise


@aion.workflow
async def patched_flow(ctx: aion.WorkflowContext) -> str:
    """Recorded before the "v2" patch existed: replay must take the old branch."""
    if ctx.patched("v2"):
        return await ctx.run(deploy, "v2")
    return await ctx.run(deploy, "v1")
