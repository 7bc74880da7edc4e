"""Replay against recorded histories: unchanged code passes, divergence is named precisely."""

from __future__ import annotations

from typing import Any

import pytest

import aion_ray as aion
from aion_ray.errors import NON_DETERMINISM_PREFIX
from aion_ray.model import events as ev
from aion_ray.testing import TestEngine, replay
from tests.builders import recorded_commands

HOUR = 3600.0


@aion.activity
def train(x: int) -> int:
    return x + 1


@aion.activity
def evaluate(x: int) -> int:
    return x * 2


@aion.activity
def publish(x: int) -> int:
    return x


def of_type(events: list[ev.Event], cls: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


@aion.workflow(name="pipeline")
async def pipeline(ctx: aion.WorkflowContext, x: int) -> int:
    trained = await ctx.run(train, x)
    scored = await ctx.run(evaluate, trained)
    await ctx.sleep(HOUR)
    return scored


@aion.workflow(name="pipeline")
async def swapped_first(ctx: aion.WorkflowContext, x: int) -> int:
    scored = await ctx.run(evaluate, x)
    await ctx.sleep(HOUR)
    return scored


@aion.workflow(name="pipeline")
async def skips_last(ctx: aion.WorkflowContext, x: int) -> int:
    trained = await ctx.run(train, x)
    await ctx.sleep(HOUR)
    return trained


@aion.workflow(name="pipeline")
async def returns_early(ctx: aion.WorkflowContext, x: int) -> int:
    return await ctx.run(train, x)


@aion.workflow(name="pipeline")
async def timer_first(ctx: aion.WorkflowContext, x: int) -> int:
    await ctx.sleep(HOUR)
    trained = await ctx.run(train, x)
    return await ctx.run(evaluate, trained)


@aion.workflow(name="pipeline")
async def extra_activity(ctx: aion.WorkflowContext, x: int) -> int:
    trained = await ctx.run(train, x)
    scored = await ctx.run(evaluate, trained)
    await ctx.sleep(HOUR)
    await ctx.run(publish, scored)
    return scored


@pytest.fixture(scope="module")
def history() -> list[ev.Event]:
    engine = TestEngine()
    handle = engine.start(pipeline, 1, id="wf-recorded")
    assert handle.result() == 4
    return handle.history()


def violation(history: list[ev.Event], workflow: aion.WorkflowDefinition[Any]) -> str:
    with pytest.raises(aion.NonDeterminismError) as info:
        replay(history, workflow)
    message = str(info.value)
    assert message.startswith(NON_DETERMINISM_PREFIX)
    assert "wf-recorded" in message
    return message


def test_unchanged_code_replays_its_history(history: list[ev.Event]) -> None:
    result = replay(history, pipeline)
    assert (result.runs, result.events) == (1, len(history))
    assert result.commands == recorded_commands(history) > 0


def test_a_different_activity_at_the_same_position_is_named(history: list[ev.Event]) -> None:
    message = violation(history, swapped_first)
    (train_scheduled, _) = of_type(history, ev.ActivityScheduled)
    assert f"seq {train_scheduled.seq}" in message
    assert "ActivityScheduled(train) #1" in message
    assert "activity evaluate #1" in message


def test_skipping_an_activity_the_history_holds_is_detected(history: list[ev.Event]) -> None:
    message = violation(history, skips_last)
    assert "ActivityScheduled(evaluate) #2" in message


def test_returning_before_an_activity_the_history_holds_is_detected(
    history: list[ev.Event],
) -> None:
    message = violation(history, returns_early)
    assert "ActivityScheduled(evaluate) #2" in message


@aion.workflow(name="steps")
async def steps(ctx: aion.WorkflowContext, x: int) -> int:
    trained = await ctx.run(train, x)
    return await ctx.run(evaluate, trained)


@aion.workflow(name="steps")
async def steps_with_timer(ctx: aion.WorkflowContext, x: int) -> int:
    trained = await ctx.run(train, x)
    await ctx.sleep(60)
    return trained


def test_a_timer_in_place_of_an_activity_is_detected() -> None:
    engine = TestEngine()
    handle = engine.start(steps, 1, id="wf-recorded")
    assert handle.result() == 4
    message = violation(handle.history(), steps_with_timer)
    assert "history holds ActivityScheduled(evaluate) #2" in message
    assert "code asked for timer sleep #1" in message


def test_a_timer_moved_before_an_activity_names_what_the_code_asked_for(
    history: list[ev.Event],
) -> None:
    message = violation(history, timer_first)
    assert "history holds ActivityScheduled(train) #1" in message
    assert "timer" in message.split("code asked for", 1)[1]


def test_an_extra_activity_before_completing_is_detected(history: list[ev.Event]) -> None:
    message = violation(history, extra_activity)
    assert "activity publish #3" in message
    assert "WorkflowCompleted" in message


def test_the_error_carries_structured_fields(history: list[ev.Event]) -> None:
    with pytest.raises(aion.NonDeterminismError) as info:
        replay(history, swapped_first)
    error = info.value
    assert error.workflow_id == "wf-recorded"
    assert error.recorded == "ActivityScheduled(train) #1"
    assert error.requested == "activity evaluate #1"
    assert history[error.seq - 1].type == "ActivityScheduled"


# --- children -------------------------------------------------------------------------------


@aion.workflow
async def leaf(ctx: aion.WorkflowContext, x: int) -> int:
    return x


@aion.workflow
async def other_leaf(ctx: aion.WorkflowContext, x: int) -> int:
    return -x


@aion.workflow(name="tree")
async def tree(ctx: aion.WorkflowContext, x: int) -> int:
    return await ctx.run_child(leaf, x)


@aion.workflow(name="tree")
async def tree_changed(ctx: aion.WorkflowContext, x: int) -> int:
    return await ctx.run_child(other_leaf, x)


def test_a_changed_child_workflow_type_is_detected() -> None:
    engine = TestEngine()
    handle = engine.start(tree, 5, id="wf-tree")
    assert handle.result() == 5
    history = handle.history()
    replay(history, tree)
    with pytest.raises(aion.NonDeterminismError) as info:
        replay(history, tree_changed)
    message = str(info.value)
    assert message.startswith(NON_DETERMINISM_PREFIX)
    assert "ChildWorkflowStarted(leaf) #1" in message
    assert "child workflow other_leaf #1" in message


# --- replay across runs ---------------------------------------------------------------------


@aion.workflow(name="counter")
async def counter(ctx: aion.WorkflowContext, n: int) -> int:
    await ctx.run(train, n)
    if n < 2:
        ctx.continue_as_new(n + 1)
    return n


@aion.workflow(name="counter")
async def counter_changed(ctx: aion.WorkflowContext, n: int) -> int:
    await ctx.run(train if n < 2 else evaluate, n)
    if n < 2:
        ctx.continue_as_new(n + 1)
    return n


def test_replay_checks_every_run_of_a_continued_history() -> None:
    engine = TestEngine()
    handle = engine.start(counter, 0, id="wf-counter")
    assert handle.result() == 2
    history = handle.history()
    assert replay(history, counter).runs == 3
    with pytest.raises(aion.NonDeterminismError) as info:
        replay(history, counter_changed)
    last_start = of_type(history, ev.WorkflowStarted)[-1]
    assert info.value.seq > last_start.seq


def test_replay_refuses_a_history_of_another_workflow_type(history: list[ev.Event]) -> None:
    with pytest.raises(aion.InvalidInputError):
        replay(history, counter)


# --- live runs whose code changed -----------------------------------------------------------


@pytest.mark.parametrize("rebuild", ["crash", "rebuild_runs"])
def test_a_live_run_whose_code_changed_fails_once_with_the_violation(rebuild: str) -> None:
    engine = TestEngine()
    handle = engine.start(pipeline, 1, id="wf-live")  # sleeping after both activities
    engine.core.definitions["pipeline"] = swapped_first
    if rebuild == "crash":
        engine.crash()
    else:
        driver = engine.driver("wf-live")
        assert driver is not None
        driver.definition = swapped_first
        engine.rebuild_runs()
    with pytest.raises(aion.WorkflowFailedError) as info:
        handle.result()
    assert info.value.cause.type == "NonDeterminismError"
    assert info.value.cause.message.startswith(NON_DETERMINISM_PREFIX)
    history = handle.history()
    assert [e.type for e in history].count("WorkflowFailed") == 1
    assert history[-1].type == "WorkflowFailed"
    assert of_type(history, ev.ActivityScheduled)[-1].activity_type == "evaluate"  # no new one
    assert len(of_type(history, ev.ActivityScheduled)) == 2
    assert engine.activity_calls == {"train": 1, "evaluate": 1}
    engine.sleep(2 * HOUR)
    assert handle.history() == history
