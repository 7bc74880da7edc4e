"""Record the golden histories: ``python -m tests.histories.record`` (only on purpose)."""

from __future__ import annotations

from pathlib import Path

import aion_ray as aion
from aion_ray.testing import TestEngine, dump_history
from tests.histories import workflows as wf

HERE = Path(__file__).parent


@aion.workflow(name="patched_flow")
async def patched_flow_before_v2(ctx: aion.WorkflowContext) -> str:
    """The code of ``patched_flow`` before the "v2" patch was added."""
    return await ctx.run(wf.deploy, "v1")


def record_all() -> None:
    engine = TestEngine()
    pipeline = engine.start(
        wf.training_pipeline,
        wf.TrainConfig(dataset="s3://data/cifar", epochs=3),
        id="golden-pipeline",
    )
    engine.sleep(7 * 86400 + 60)
    pipeline.signal("approve", True)
    pipeline.result()
    dump_history(pipeline.history(), HERE / "training_pipeline.json")

    sweep = engine.start(wf.sweep, 2, id="golden-sweep")
    sweep.result()
    dump_history(sweep.history(), HERE / "sweep.json")
    child = engine.list(workflow_type="evaluation", limit=1)[0].workflow_id
    dump_history(engine.get(child).history(), HERE / "evaluation.json")

    cancelled = engine.start(wf.cancellable, id="golden-cancel")
    cancelled.cancel("superseded")
    dump_history(cancelled.history(), HERE / "cancellable.json")

    before = engine.start(patched_flow_before_v2, id="golden-patch")
    before.result()
    dump_history(before.history(), HERE / "patched_flow.json")


if __name__ == "__main__":
    record_all()
