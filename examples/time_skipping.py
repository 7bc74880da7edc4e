"""The ML pipeline on the in-process test engine, a week of sleep skipped in milliseconds.

Run with ``python -m examples.time_skipping``; the history goes to a DuckDB file.

The pipeline prepares data, trains three shards in parallel (one flaky shard is retried),
sleeps a week (a durable timer: skipped in milliseconds by the engine's clock), answers a
query, waits for an approval signal, deploys, and prints its history as a timeline; then SQL
runs over the event log. The history lives in a real DuckDB file under ``.aion/``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import aion_ray as aion
from aion_ray.model.timeline import format_timeline
from aion_ray.storage import DuckDBHistoryStore
from aion_ray.testing import TestEngine

_FLAKY_FAILURES: dict[str, int] = {}


class TrainConfig(BaseModel):
    dataset: str
    epochs: int


class Metrics(BaseModel):
    shard: str
    loss: float


@aion.activity
def prepare(cfg: TrainConfig) -> list[str]:
    return [f"{cfg.dataset}/part-{i}" for i in range(3)]


@aion.activity(retry=aion.RetryPolicy(max_attempts=3, initial_interval=30.0))
def train(shard: str, epochs: int) -> Metrics:
    if shard.endswith("part-1") and _FLAKY_FAILURES.setdefault(shard, 0) < 1:
        _FLAKY_FAILURES[shard] += 1
        raise ConnectionError(f"lost the GPU node while training {shard}")
    part = int(shard.rsplit("-", 1)[1])
    return Metrics(shard=shard, loss=round(0.9 / epochs + 0.037 * (part - 1) ** 2, 4))


@aion.activity
def deploy(best: Metrics) -> str:
    return f"model from {best.shard} is live"


@aion.workflow
async def nightly(ctx: aion.WorkflowContext, cfg: TrainConfig) -> str:
    stage = "preparing data"
    ctx.set_query_handler("stage", lambda: stage)
    shards = await ctx.run(prepare, cfg)
    stage = "training"
    metrics = await asyncio.gather(*(ctx.run(train, s, cfg.epochs) for s in shards))
    best = min(metrics, key=lambda m: m.loss)
    stage = "burn-in week"
    await ctx.sleep(7 * 86400)
    stage = "waiting for approval"
    if not await ctx.wait_signal("approve", timeout=2 * 86400):
        return "rejected"
    return await ctx.run(deploy, best)


def show(table: Any) -> None:
    """Print a pyarrow table as aligned text."""
    rows = [table.column_names] + [[str(v) for v in row.values()] for row in table.to_pylist()]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print()


def main() -> None:
    path = Path(".aion/demo.duckdb")
    path.parent.mkdir(exist_ok=True)
    path.unlink(missing_ok=True)
    Path(f"{path}.wal").unlink(missing_ok=True)
    store = DuckDBHistoryStore(path)
    engine = TestEngine(store=store)
    began = time.perf_counter()
    handle = engine.start(
        nightly, TrainConfig(dataset="s3://ml/cifar", epochs=4), id="nightly-demo"
    )
    engine.sleep(3 * 86400)
    print(f"after 3 days the workflow is at stage: {handle.query('stage')!r}")
    engine.sleep(5 * 86400)
    print(f"after 8 days the workflow is at stage: {handle.query('stage')!r}")
    handle.signal("approve", True)
    print(
        f"result: {handle.result()!r} (a week of durable sleep took "
        f"{time.perf_counter() - began:.3f}s of real time)\n"
    )
    print(format_timeline(handle.history()))
    print("\nSQL over the event log:")
    show(store.sql("select type, count(*) as events from events group by 1 order by 2 desc, 1"))
    show(
        store.sql(
            "select data->>'$.result.value.shard' as shard, data->>'$.result.value.loss' "
            "as loss from events where type = 'ActivityCompleted' and "
            "data->>'$.result.value.loss' is not null order by loss"
        )
    )
    store.close()
    print(f"\nhistory kept in {path}")


if __name__ == "__main__":
    main()
