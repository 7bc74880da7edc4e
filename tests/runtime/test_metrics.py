"""What the engine tells its ``Metrics`` port, on the TestEngine (``engine.core.metrics``):
runs started and ended by type and status, attempts by activity and outcome, replays."""

from __future__ import annotations

import pytest

import aion_ray as aion
from aion_ray.engine.observe import RecordedMetrics
from aion_ray.testing import TestEngine

failures_left = {"flaky": 0}


@aion.activity(retry=aion.RetryPolicy(max_attempts=3, initial_interval=1.0))
def flaky(x: int) -> int:
    if failures_left["flaky"] > 0:
        failures_left["flaky"] -= 1
        raise RuntimeError("not yet")
    return x + 1


@aion.workflow
async def counted(ctx: aion.WorkflowContext, n: int) -> int:
    return await ctx.run(flaky, n)


@aion.workflow
async def waiting(ctx: aion.WorkflowContext, n: int) -> int:
    await ctx.wait_signal("go")
    return n


@aion.workflow
async def broken(ctx: aion.WorkflowContext, n: int) -> int:
    raise ValueError("broken")


@aion.workflow
async def looping(ctx: aion.WorkflowContext, n: int) -> int:
    if n > 0:
        ctx.continue_as_new(n - 1)
    return n


@pytest.fixture
def engine() -> TestEngine:
    made = TestEngine()
    made.core.metrics = RecordedMetrics()
    return made


def recorded(engine: TestEngine) -> RecordedMetrics:
    metrics = engine.core.metrics
    assert isinstance(metrics, RecordedMetrics)
    return metrics


def test_runs_are_counted_by_type_and_status(engine: TestEngine) -> None:
    assert engine.start(counted, 1, id="c-1").result() == 2
    with pytest.raises(aion.WorkflowFailedError):
        engine.start(broken, 0, id="b-1").result()
    waiter = engine.start(waiting, 0, id="w-1")
    waiter.cancel()
    terminated = engine.start(waiting, 0, id="w-2")
    terminated.terminate("ops")
    with pytest.raises(aion.WorkflowTimedOutError):
        engine.start(waiting, 0, id="w-3", execution_timeout=5).result()
    metrics = recorded(engine)
    assert metrics.started == {"counted": 1, "broken": 1, "waiting": 3}
    assert metrics.ended == {
        ("counted", "completed"): 1,
        ("broken", "failed"): 1,
        ("waiting", "cancelled"): 1,
        ("waiting", "terminated"): 1,
        ("waiting", "timed_out"): 1,
    }


def test_each_run_of_a_continue_as_new_is_counted(engine: TestEngine) -> None:
    assert engine.start(looping, 2, id="loop").result() == 0
    metrics = recorded(engine)
    assert metrics.started == {"looping": 3}
    assert metrics.ended == {("looping", "continued_as_new"): 2, ("looping", "completed"): 1}


def test_attempts_are_counted_by_outcome(engine: TestEngine) -> None:
    failures_left["flaky"] = 2
    assert engine.start(counted, 1, id="c-2").result() == 2
    metrics = recorded(engine)
    assert metrics.attempts == {("flaky", "failed"): 2, ("flaky", "completed"): 1}
    assert len(metrics.attempt_seconds) == 3
    assert all(seconds >= 0 for seconds in metrics.attempt_seconds)


def test_a_rebuild_is_a_replay_and_counts_no_run_again(engine: TestEngine) -> None:
    handle = engine.start(waiting, 7, id="w-4")
    engine.crash()
    engine.crash()
    handle.signal("go")
    assert handle.result() == 7
    metrics = recorded(engine)
    assert [workflow_type for workflow_type, _ in metrics.replays] == ["waiting", "waiting"]
    assert metrics.started == {"waiting": 1}
    assert metrics.ended == {("waiting", "completed"): 1}
