"""The visibility fold (apply_event, project_info) and the reference filter semantics."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from aion_ray.model import events as ev
from aion_ray.model.events import ParentRef
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.payload import encode
from aion_ray.model.visibility import (
    WorkflowFilter,
    WorkflowInfo,
    apply_event,
    matches,
    project_info,
)
from tests.builders import T0, HistoryBuilder, completed_history, one_of_each

SECOND = timedelta(seconds=1)


def info_of(b: HistoryBuilder) -> WorkflowInfo:
    info = project_info(b.events)
    assert info is not None
    return info


def test_start_sets_running_and_started_at() -> None:
    b = HistoryBuilder("wf-v", run_id="r-1")
    start = b.started("train")
    info = apply_event(None, start)
    assert info == WorkflowInfo(
        workflow_id="wf-v",
        run_id="r-1",
        workflow_type="train",
        status=WorkflowStatus.RUNNING,
        started_at=start.recorded_at,
    )
    assert info.closed_at is None
    assert info.search_attributes == {}


def test_start_records_the_parent_workflow() -> None:
    b = HistoryBuilder()
    b.started(parent=ParentRef(workflow_id="parent-1", run_id="pr", child_id=3))
    assert info_of(b).parent_workflow_id == "parent-1"


def test_events_before_a_start_project_to_nothing() -> None:
    b = HistoryBuilder()
    signal = b.add(ev.SignalReceived, name="s", payload=encode(1))
    assert apply_event(None, signal) is None
    assert project_info([]) is None
    assert project_info(b.events) is None


def test_invisible_events_leave_the_record_untouched() -> None:
    b = HistoryBuilder()
    info = apply_event(None, b.started())
    for event in b.activity(1):
        assert apply_event(info, event) is info
    assert apply_event(info, b.timer(1, 5)) is info
    assert apply_event(info, b.add(ev.WorkflowCancelRequested)) is info


def test_search_attributes_merge_key_by_key() -> None:
    b = HistoryBuilder()
    b.started()
    b.add(ev.SearchAttributesUpdated, attributes={"team": "ml", "epochs": 1, "tags": ["a"]})
    b.add(ev.SearchAttributesUpdated, attributes={"epochs": 5, "done": False})
    b.add(ev.SearchAttributesUpdated, attributes={"tags": ["b", "c"]})
    assert info_of(b).search_attributes == {
        "team": "ml",
        "epochs": 5,
        "done": False,
        "tags": ["b", "c"],
    }


def test_search_attributes_survive_continue_as_new() -> None:
    b = HistoryBuilder()
    b.started("train")
    b.add(ev.SearchAttributesUpdated, attributes={"team": "ml"})
    can = b.add(
        ev.WorkflowContinuedAsNew, workflow_type="train", input=encode(2), next_run_id="run-2"
    )
    closed = info_of(b)
    assert (closed.status, closed.closed_at) == (WorkflowStatus.CONTINUED_AS_NEW, can.recorded_at)
    b.run_id = "run-2"
    restart = b.started("train-v2", parent_run_id="run-1")
    b.add(ev.SearchAttributesUpdated, attributes={"round": 2})
    info = info_of(b)
    assert info.search_attributes == {"team": "ml", "round": 2}
    assert (info.run_id, info.workflow_type) == ("run-2", "train-v2")
    assert (info.status, info.closed_at) == (WorkflowStatus.RUNNING, None)
    assert info.started_at == restart.recorded_at


@pytest.mark.parametrize(
    ("cls", "fields", "status"),
    [
        (ev.WorkflowCompleted, {"result": encode(1)}, WorkflowStatus.COMPLETED),
        (ev.WorkflowCancelled, {}, WorkflowStatus.CANCELLED),
        (ev.WorkflowTimedOut, {"timeout": "1h"}, WorkflowStatus.TIMED_OUT),
        (ev.WorkflowTerminated, {"reason": "ops"}, WorkflowStatus.TERMINATED),
    ],
)
def test_terminals_set_status_and_closed_at(
    cls: type[Any], fields: dict[str, Any], status: WorkflowStatus
) -> None:
    b = HistoryBuilder()
    start = b.started()
    end = b.add(cls, **fields)
    info = info_of(b)
    assert (info.status, info.closed_at, info.started_at) == (
        status,
        end.recorded_at,
        start.recorded_at,
    )


def test_reopen_clears_closed_at() -> None:
    b = HistoryBuilder()
    b.started()
    failed = b.failed()
    assert info_of(b).closed_at == failed.recorded_at
    b.add(ev.WorkflowReopened, reopened_activities=(1,))
    info = info_of(b)
    assert (info.status, info.closed_at) == (WorkflowStatus.RUNNING, None)


def test_pause_and_resume_change_status_but_not_closed_at() -> None:
    b = HistoryBuilder()
    b.started()
    b.add(ev.WorkflowPaused)
    assert (info_of(b).status, info_of(b).closed_at) == (WorkflowStatus.PAUSED, None)
    b.add(ev.WorkflowResumed)
    assert info_of(b).status is WorkflowStatus.RUNNING


def test_the_sample_history_projects_to_its_last_run() -> None:
    history = one_of_each()
    info = project_info(history)
    assert info is not None
    assert (info.run_id, info.status) == ("run-3", WorkflowStatus.TERMINATED)
    assert info.closed_at == history[-1].recorded_at
    assert info.search_attributes == {"team": "ml", "tags": ["a", "b"], "n": 3}


# --- matches ---------------------------------------------------------------------------------


def make_info(**fields: Any) -> WorkflowInfo:
    base: dict[str, Any] = {
        "workflow_id": "wf",
        "run_id": "run",
        "workflow_type": "train",
        "status": WorkflowStatus.RUNNING,
        "started_at": T0,
    }
    return WorkflowInfo.model_validate({**base, **fields})


def check(info: WorkflowInfo, **conditions: Any) -> bool:
    return matches(info, WorkflowFilter.model_validate(conditions))


def test_an_empty_filter_matches_everything() -> None:
    assert check(make_info())
    assert check(make_info(status="failed", closed_at=T0 + SECOND))


def test_workflow_type_must_be_equal() -> None:
    assert check(make_info(), workflow_type="train")
    assert not check(make_info(), workflow_type="Train")
    assert not check(make_info(), workflow_type="train-v2")


def test_status_must_be_one_of_the_listed() -> None:
    failed = make_info(status="failed", closed_at=T0)
    assert check(failed, status=("failed",))
    assert check(failed, status=("completed", "failed"))
    assert not check(failed, status=("running", "paused"))
    assert not check(failed, status=())


def test_started_bounds_are_inclusive() -> None:
    info = make_info()
    assert check(info, started_after=T0, started_before=T0)
    assert not check(info, started_after=T0 + SECOND)
    assert not check(info, started_before=T0 - SECOND)
    assert check(info, started_after=T0 - SECOND, started_before=T0 + SECOND)


def test_closed_bounds_are_inclusive() -> None:
    closed = make_info(status="completed", closed_at=T0 + SECOND)
    assert check(closed, closed_after=T0 + SECOND, closed_before=T0 + SECOND)
    assert not check(closed, closed_after=T0 + 2 * SECOND)
    assert not check(closed, closed_before=T0)


def test_closed_bounds_never_match_a_running_workflow() -> None:
    running = make_info()
    far_past, far_future = datetime.min.replace(tzinfo=T0.tzinfo), T0 + timedelta(days=3650)
    assert not check(running, closed_after=far_past)
    assert not check(running, closed_before=far_future)
    assert not check(make_info(status="paused"), closed_after=far_past)


def test_scalar_search_attributes_must_be_equal() -> None:
    info = make_info(search_attributes={"team": "ml", "epochs": 10, "lr": 0.5})
    assert check(info, search_attributes={"team": "ml"})
    assert check(info, search_attributes={"team": "ml", "epochs": 10})
    assert check(info, search_attributes={"epochs": 10.0})
    assert not check(info, search_attributes={"team": "ml", "epochs": 11})
    assert not check(info, search_attributes={"team": "data"})
    assert not check(info, search_attributes={"missing": "x"})
    assert not check(info, search_attributes={"epochs": "10"})


def test_a_list_attribute_contains_a_scalar_condition() -> None:
    info = make_info(search_attributes={"tags": ["gpu", "big"]})
    assert check(info, search_attributes={"tags": "gpu"})
    assert check(info, search_attributes={"tags": "big"})
    assert not check(info, search_attributes={"tags": "small"})
    assert check(info, search_attributes={"tags": ["gpu", "big"]})
    assert not check(info, search_attributes={"tags": ["gpu"]})
    assert not check(make_info(search_attributes={"tags": []}), search_attributes={"tags": "gpu"})


def test_booleans_never_match_integers() -> None:
    one = make_info(search_attributes={"flag": 1, "zero": 0})
    true = make_info(search_attributes={"flag": True, "zero": False})
    assert not check(one, search_attributes={"flag": True})
    assert not check(one, search_attributes={"zero": False})
    assert not check(true, search_attributes={"flag": 1})
    assert not check(true, search_attributes={"zero": 0})
    assert check(true, search_attributes={"flag": True, "zero": False})
    assert check(one, search_attributes={"flag": 1, "zero": 0})
    assert not check(true, search_attributes={"flag": False})


def test_all_conditions_must_hold() -> None:
    info = make_info(search_attributes={"team": "ml"})
    assert check(info, workflow_type="train", status=("running",), search_attributes={"team": "ml"})
    assert not check(info, workflow_type="train", status=("failed",))
    assert not check(info, workflow_type="eval", search_attributes={"team": "ml"})


def test_matches_agrees_with_projected_histories() -> None:
    info = project_info(completed_history())
    assert info is not None
    assert check(info, status=("completed",), closed_after=T0)
    assert not check(info, status=("running",))


def test_a_naive_datetime_filter_is_refused_up_front() -> None:
    with pytest.raises(ValidationError):
        WorkflowFilter(started_after=datetime(2026, 11, 27, 12, 0, 0))


def test_filter_limit_and_offset_must_not_be_negative() -> None:
    with pytest.raises(ValidationError):
        WorkflowFilter(limit=-1)
    with pytest.raises(ValidationError):
        WorkflowFilter(offset=-1)
    with pytest.raises(ValidationError):
        WorkflowFilter.model_validate({"status": ("sleeping",)})
