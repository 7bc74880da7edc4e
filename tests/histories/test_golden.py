"""Golden histories: the current code of each workflow must still replay its recorded runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import aion_ray as aion
from aion_ray.model import events as ev
from aion_ray.testing import load_history, replay
from tests.builders import recorded_commands
from tests.histories import workflows as wf

HERE = Path(__file__).parent
GOLDEN: dict[str, aion.WorkflowDefinition[Any]] = {
    "training_pipeline.json": wf.training_pipeline,
    "sweep.json": wf.sweep,
    "evaluation.json": wf.evaluation,
    "cancellable.json": wf.cancellable,
    "patched_flow.json": wf.patched_flow,
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_history_replays(name: str) -> None:
    history = load_history(HERE / name)
    result = replay(history, GOLDEN[name])
    assert result.events == len(history)
    assert result.commands == recorded_commands(history) > 0


def test_every_golden_file_is_checked() -> None:
    assert sorted(p.name for p in HERE.glob("*.json")) == sorted(GOLDEN)


def test_the_patched_history_took_the_old_branch() -> None:
    history = load_history(HERE / "patched_flow.json")
    assert not any(isinstance(e, ev.MarkerRecorded) for e in history)
    scheduled = [e for e in history if isinstance(e, ev.ActivityScheduled)]
    assert [s.input.value for s in scheduled] == [["v1"]]


def test_a_breaking_change_is_caught() -> None:
    @aion.workflow(name="evaluation")
    async def evaluation_v2(ctx: aion.WorkflowContext, shard: str) -> float:
        await ctx.sleep(60)  # a new timer where the history holds an activity
        return 0.0

    with pytest.raises(aion.NonDeterminismError, match="non-determinism violation"):
        replay(load_history(HERE / "evaluation.json"), evaluation_v2)
