"""Child workflows, signals between workflows, patches and search attributes."""

from __future__ import annotations

from typing import Any

import pytest

import aion_ray as aion
from aion_ray.model import events as ev
from aion_ray.model.visibility import WorkflowFilter
from aion_ray.testing import TestEngine, replay
from tests.builders import recorded_commands

HOUR = 3600.0


@aion.activity
def add(a: int, b: int) -> int:
    return a + b


def kinds(events: list[ev.Event]) -> list[str]:
    return [e.type for e in events]


def of_type(events: list[ev.Event], cls: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


# --- child workflows ------------------------------------------------------------------------


@aion.workflow
async def square(ctx: aion.WorkflowContext, n: int) -> int:
    await ctx.sleep(HOUR)
    return await ctx.run(add, n * n, 0)


@aion.workflow
async def child_fails(ctx: aion.WorkflowContext, n: int) -> int:
    raise ValueError(f"bad child input {n}")


@aion.workflow
async def parent(ctx: aion.WorkflowContext, n: int) -> dict[str, Any]:
    direct = await ctx.run_child(square, n)
    handle = ctx.start_child(square, n + 1, id=f"{ctx.info.workflow_id}-named")
    started_id = handle.workflow_id
    return {"direct": direct, "named": await handle, "named_id": started_id}


def test_run_child_and_start_child_return_child_results() -> None:
    engine = TestEngine()
    handle = engine.start(parent, 3, id="wf-parent")
    assert handle.result() == {"direct": 9, "named": 16, "named_id": "wf-parent-named"}
    history = handle.history()
    started = of_type(history, ev.ChildWorkflowStarted)
    assert [c.workflow_type for c in started] == ["square", "square"]
    assert started[1].child_workflow_id == "wf-parent-named"
    completed = of_type(history, ev.ChildWorkflowCompleted)
    assert [c.result.value for c in completed] == [9, 16]
    children = [i for i in engine.list() if i.parent_workflow_id == "wf-parent"]
    assert sorted(i.workflow_id for i in children) == sorted(c.child_workflow_id for c in started)
    assert all(i.status == aion.WorkflowStatus.COMPLETED for i in children)
    child_history = engine.store.read_history("wf-parent-named")
    first = child_history[0]
    assert isinstance(first, ev.WorkflowStarted)
    assert first.parent is not None
    assert (first.parent.workflow_id, first.parent.child_id) == ("wf-parent", 2)


@aion.workflow
async def parent_of_failure(ctx: aion.WorkflowContext) -> str:
    try:
        await ctx.run_child(child_fails, 7)
    except aion.WorkflowFailedError as exc:
        return f"{exc.cause.type}: {exc.cause.message}"
    return "unreachable"


def test_a_failing_child_raises_workflow_failed_error_in_the_parent() -> None:
    engine = TestEngine()
    handle = engine.start(parent_of_failure, id="wf-parent-fail")
    assert handle.result() == "ValueError: bad child input 7"
    (failed,) = of_type(handle.history(), ev.ChildWorkflowFailed)
    assert failed.status == "failed"
    assert failed.error.type == "ValueError"


def test_a_crash_while_the_child_runs_still_delivers_its_result_exactly_once() -> None:
    engine = TestEngine()
    handle = engine.start(parent, 2, id="wf-parent-crash")
    (child,) = of_type(handle.history(), ev.ChildWorkflowStarted)
    assert engine.describe(child.child_workflow_id).status == aion.WorkflowStatus.RUNNING
    engine.crash()  # parent and child both recover from the store
    engine.sleep(HOUR)
    engine.crash(handle.workflow_id)  # only the parent, while the second child sleeps
    assert handle.result() == {"direct": 4, "named": 9, "named_id": "wf-parent-crash-named"}
    history = handle.history()
    assert len(of_type(history, ev.ChildWorkflowStarted)) == 2
    assert [c.child_id for c in of_type(history, ev.ChildWorkflowCompleted)] == [1, 2]
    for started in of_type(history, ev.ChildWorkflowStarted):
        child_history = engine.store.read_history(started.child_workflow_id)
        assert kinds(child_history).count("WorkflowStarted") == 1
        assert kinds(child_history).count("WorkflowCompleted") == 1
    assert engine.activity_calls["add"] == 2


# --- signals between workflows --------------------------------------------------------------


@aion.workflow
async def receiver(ctx: aion.WorkflowContext) -> list[Any]:
    return [await ctx.wait_signal("ping"), await ctx.wait_signal("ping")]


@aion.workflow
async def sender(ctx: aion.WorkflowContext, target: str) -> str:
    await ctx.signal_workflow(target, "ping", {"n": 1})
    await ctx.sleep(60)
    await ctx.signal_workflow(target, "ping", {"n": 2})
    return "sent"


def test_signal_workflow_records_the_send_and_the_target_receives_it() -> None:
    engine = TestEngine()
    target = engine.start(receiver, id="wf-receiver")
    source = engine.start(sender, "wf-receiver", id="wf-sender")
    engine.crash()  # the first signal is recorded on both sides; nothing is sent twice
    assert source.result() == "sent"
    assert target.result() == [{"n": 1}, {"n": 2}]
    sent = of_type(source.history(), ev.SignalSent)
    assert [(s.send_id, s.target_workflow_id, s.name) for s in sent] == [
        (1, "wf-receiver", "ping"),
        (2, "wf-receiver", "ping"),
    ]
    received = of_type(target.history(), ev.SignalReceived)
    assert [r.payload.value for r in received] == [{"n": 1}, {"n": 2}]
    request_ids = [r.request_id for r in received]
    assert all(request_ids)
    assert len(set(request_ids)) == 2


# --- versioning -----------------------------------------------------------------------------


@aion.activity
def train(x: int) -> int:
    return x + 1


@aion.activity
def calibrate(x: int) -> int:
    return x * 100


@aion.workflow(name="model")
async def model_v1(ctx: aion.WorkflowContext, x: int) -> int:
    trained = await ctx.run(train, x)
    await ctx.sleep(HOUR)
    return trained


@aion.workflow(name="model")
async def model_v2(ctx: aion.WorkflowContext, x: int) -> int:
    trained = await ctx.run(train, x)
    if ctx.patched("calibrate"):
        trained = await ctx.run(calibrate, trained)
    await ctx.sleep(HOUR)
    return trained


def test_patched_is_true_on_new_runs_and_records_a_marker() -> None:
    engine = TestEngine()
    handle = engine.start(model_v2, 1, id="wf-v2")
    assert handle.result() == 200
    history = handle.history()
    (marker,) = of_type(history, ev.MarkerRecorded)
    assert (marker.kind, marker.name) == ("patch", "calibrate")
    replay(history, model_v2)


def test_new_code_replays_an_old_history_down_the_old_branch() -> None:
    engine = TestEngine()
    handle = engine.start(model_v1, 1, id="wf-v1")
    assert handle.result() == 2
    old = handle.history()
    assert of_type(old, ev.MarkerRecorded) == []
    result = replay(old, model_v2)
    assert (result.runs, result.events) == (1, len(old))
    assert result.commands == recorded_commands(old) > 0


def test_a_running_old_workflow_keeps_the_old_branch_after_a_code_change() -> None:
    engine = TestEngine()
    handle = engine.start(model_v1, 1, id="wf-upgrade")  # now sleeping, after train
    engine.core.definitions["model"] = model_v2
    engine.crash()
    assert handle.result() == 2
    history = handle.history()
    assert of_type(history, ev.MarkerRecorded) == []
    assert engine.activity_calls["calibrate"] == 0
    assert kinds(history)[-1] == "WorkflowCompleted"


# --- search attributes ----------------------------------------------------------------------


@aion.workflow
async def tagged(ctx: aion.WorkflowContext, team: str) -> str:
    ctx.upsert_search_attributes({"team": team, "stage": "train"})
    await ctx.sleep(60)
    ctx.upsert_search_attributes({"stage": "done", "tags": ["a", "b"]})
    await ctx.wait_signal("finish")
    return team


def test_search_attributes_are_recorded_visible_and_filterable() -> None:
    engine = TestEngine()
    ml = engine.start(tagged, "ml", id="wf-ml")
    data = engine.start(tagged, "data", id="wf-data")
    assert ml.describe().search_attributes == {"team": "ml", "stage": "train"}
    engine.sleep(60)
    assert ml.describe().search_attributes == {"team": "ml", "stage": "done", "tags": ["a", "b"]}
    updates = of_type(ml.history(), ev.SearchAttributesUpdated)
    assert [u.attributes for u in updates] == [
        {"team": "ml", "stage": "train"},
        {"stage": "done", "tags": ["a", "b"]},
    ]
    found = engine.store.list_workflows(WorkflowFilter(search_attributes={"team": "ml"}))
    assert [i.workflow_id for i in found] == ["wf-ml"]
    both = engine.store.list_workflows(WorkflowFilter(search_attributes={"tags": "a"}))
    assert sorted(i.workflow_id for i in both) == ["wf-data", "wf-ml"]
    engine.rebuild_runs()  # replaying the upserts records nothing new
    assert len(of_type(ml.history(), ev.SearchAttributesUpdated)) == 2
    data.signal("finish")
    assert data.result() == "data"


@aion.workflow
async def bad_attributes(ctx: aion.WorkflowContext) -> str:
    try:
        ctx.upsert_search_attributes({"when": object()})  # type: ignore[dict-item]
    except aion.InvalidInputError:
        return "refused"
    return "accepted"


def test_invalid_search_attributes_are_refused_and_not_recorded() -> None:
    engine = TestEngine()
    handle = engine.start(bad_attributes, id="wf-bad-attrs")
    assert handle.result() == "refused"
    assert of_type(handle.history(), ev.SearchAttributesUpdated) == []


@pytest.mark.parametrize("crash", [False, True])
def test_child_ids_are_stable_across_replays(crash: bool) -> None:
    engine = TestEngine()
    handle = engine.start(parent, 1, id=f"wf-stable-{crash}")
    (child,) = of_type(handle.history(), ev.ChildWorkflowStarted)
    if crash:
        engine.crash()
    else:
        engine.rebuild_runs()
    handle.result()
    first = of_type(handle.history(), ev.ChildWorkflowStarted)[0]
    assert (first.child_workflow_id, first.child_run_id) == (
        child.child_workflow_id,
        child.child_run_id,
    )
