"""``make demo``: an ML pipeline on local Ray, with its history in ``./.aion/history.duckdb``.

The first workflow prepares data, trains on a Ray task (the first attempt hits an injected
transient failure and is retried), waits for an approval signal the demo sends a moment
later (with a timeout), and deploys; its history prints as a timeline. The second workflow
is killed in the middle of a step (SIGKILL of the actor hosting it) and finishes anyway, on
another pooled actor, without re-running the step it had completed.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import ray
from pydantic import BaseModel

import aion_ray as aion
from aion_ray.actors.stubs import HostStub
from aion_ray.model.timeline import format_timeline

MARKERS = Path(".aion/demo")


class TrainConfig(BaseModel):
    dataset: str
    epochs: int
    run: str  # names this run's marker files


class Metrics(BaseModel):
    loss: float
    epochs: int


@aion.activity(local=True)
def prepare(cfg: TrainConfig) -> list[str]:
    return [f"{cfg.dataset}/part-{i}" for i in range(3)]


@aion.activity(retry=aion.RetryPolicy(max_attempts=3, initial_interval=0.2), num_cpus=1)
def train(cfg: TrainConfig, shards: list[str]) -> Metrics:
    """A Ray task; its first attempt of each run loses its (pretend) GPU node."""
    marker = MARKERS / f"{cfg.run}.failed-once"
    if not marker.exists():
        marker.write_text("x")
        raise ConnectionError("lost the GPU node while training")
    time.sleep(0.3 * cfg.epochs)
    return Metrics(loss=round(0.9 / cfg.epochs + 0.01 * len(shards), 4), epochs=cfg.epochs)


@aion.activity(local=True)
def deploy(metrics: Metrics) -> str:
    return f"model with loss {metrics.loss} is live"


@aion.workflow
async def nightly(ctx: aion.WorkflowContext, cfg: TrainConfig) -> str:
    stage = "preparing data"
    ctx.set_query_handler("stage", lambda: stage)
    shards = await ctx.run(prepare, cfg)
    stage = "training"
    metrics = await ctx.run(train, cfg, shards)
    stage = "waiting for approval"
    if not await ctx.wait_signal("approve", timeout=60):
        return "not approved in time"
    stage = "deploying"
    return await ctx.run(deploy, metrics)


@aion.activity(num_cpus=0)
def count_step(path: str, seconds: float) -> int:
    """A step that counts its runs in a file (the proof that completed work is not redone)."""
    with open(path, "a") as file:
        file.write("x")
    time.sleep(seconds)
    return Path(path).stat().st_size


@aion.workflow
async def survivor(ctx: aion.WorkflowContext, run: str) -> list[int]:
    first = await ctx.run(count_step, str(MARKERS / f"{run}.first"), 0.0)
    second = await ctx.run(count_step, str(MARKERS / f"{run}.second"), 3.0)
    return [first, second]


def wait_for(condition: Any, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.05)


def pipeline(client: aion.Client, run: str) -> None:
    cfg = TrainConfig(dataset="s3://ml/cifar", epochs=3, run=run)
    handle = client.start(nightly, cfg, id=f"nightly-{run}")
    print(f"started {handle.workflow_id}")
    wait_for(lambda: handle.query("stage") == "waiting for approval", "training")
    print(f"  stage: {handle.query('stage')!r} (training was retried once, see below)")
    time.sleep(0.5)
    handle.signal("approve", True)
    print("  sent the approval signal")
    print(f"  result: {handle.result(timeout=60)!r}\n")
    print(format_timeline(handle.history()))


def crash(client: aion.Client, run: str) -> None:
    handle = client.start(survivor, run, id=f"survivor-{run}")
    print(f"\nstarted {handle.workflow_id}; killing its actor in the middle of step 2")
    wait_for(lambda: (MARKERS / f"{run}.second").exists(), "step 2 to start")
    host = client.registry.where(handle.workflow_id).get()
    assert host is not None, f"{handle.workflow_id} is not resident"
    pid = HostStub(host, client.config.namespace).pid().get()
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    print(f"  SIGKILLed {host} (pid {pid})")
    result = handle.result(timeout=60)
    print(f"  finished {time.monotonic() - killed:.1f}s after the kill: step runs {result}")
    print("  (step 1 ran once; step 2 was interrupted and ran again on another actor)")


def main() -> None:
    began = time.monotonic()
    MARKERS.mkdir(parents=True, exist_ok=True)
    client = aion.connect(pool_size=(2, 4))
    print(f"engine up in {time.monotonic() - began:.1f}s; history in {client.config.store_path}\n")
    run = time.strftime("%Y%m%d-%H%M%S")
    pipeline(client, run)
    crash(client, run)
    print("\nSQL over the event log:")
    table = client.sql("select type, count(*) as n from events group by 1 order by 2 desc, 1")
    for row in table.to_pylist():
        print(f"  {row['type']:<22} {row['n']}")
    print(f"\ndemo done in {time.monotonic() - began:.1f}s")
    client.shutdown()
    ray.shutdown()


if __name__ == "__main__":
    main()
