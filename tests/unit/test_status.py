"""Status as a projection of history: status_of, current_terminal and run segments."""

from __future__ import annotations

from typing import Any

import pytest

from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.history import (
    RunSegment,
    WorkflowStatus,
    current_run,
    current_terminal,
    run_segment,
    run_segments,
    status_of,
)
from aion_ray.model.payload import encode
from tests.builders import HistoryBuilder, completed_history, one_of_each

TERMINALS: list[tuple[type[Any], dict[str, Any], WorkflowStatus]] = [
    (ev.WorkflowCompleted, {"result": encode(1)}, WorkflowStatus.COMPLETED),
    (
        ev.WorkflowFailed,
        {"error": ErrorInfo(type="E", message="m")},
        WorkflowStatus.FAILED,
    ),
    (ev.WorkflowCancelled, {"reason": "r"}, WorkflowStatus.CANCELLED),
    (ev.WorkflowTimedOut, {"timeout": "60s"}, WorkflowStatus.TIMED_OUT),
    (ev.WorkflowTerminated, {"reason": "ops"}, WorkflowStatus.TERMINATED),
    (
        ev.WorkflowContinuedAsNew,
        {"workflow_type": "pipeline", "input": encode(2), "next_run_id": "run-2"},
        WorkflowStatus.CONTINUED_AS_NEW,
    ),
]


def running() -> HistoryBuilder:
    b = HistoryBuilder()
    b.started()
    b.activity(1)
    return b


def two_runs() -> HistoryBuilder:
    """run-1 (started, activity, continued as new) then run-2 (started, timer)."""
    b = running()
    b.add(ev.WorkflowContinuedAsNew, workflow_type="pipeline", input=encode(2), next_run_id="run-2")
    b.run_id = "run-2"
    b.started(value=2, parent_run_id="run-1")
    b.timer(1, 30)
    return b


def test_an_empty_history_has_no_status() -> None:
    assert status_of([]) is None
    assert current_terminal([]) is None
    assert run_segments([]) == []
    assert list(current_run([])) == []


def test_a_started_workflow_is_running() -> None:
    assert status_of(running().events) is WorkflowStatus.RUNNING


@pytest.mark.parametrize(
    ("cls", "fields", "status"), TERMINALS, ids=[cls.__name__ for cls, _, _ in TERMINALS]
)
def test_the_last_terminal_event_sets_the_status(
    cls: type[Any], fields: dict[str, Any], status: WorkflowStatus
) -> None:
    b = running()
    terminal = b.add(cls, **fields)
    assert status_of(b.events) is status
    assert current_terminal(b.events) == terminal
    assert status.is_terminal


def test_non_lifecycle_events_do_not_change_status() -> None:
    b = HistoryBuilder()
    b.started()
    b.add(ev.WorkflowPaused, reason="hold")
    b.add(ev.SearchAttributesUpdated, attributes={"k": 1})
    b.add(ev.SignalReceived, name="s", payload=encode(1))
    b.add(ev.WorkflowCancelRequested, reason="please")
    b.add(ev.MarkerRecorded, kind="patch", name="v2")
    b.timer(1, 5)
    assert status_of(b.events) is WorkflowStatus.PAUSED
    b.failed()
    b.add(ev.WorkflowReopened)
    b.add(ev.WorkflowCancelRequested)
    assert status_of(b.events) is WorkflowStatus.RUNNING


def test_pause_and_resume_toggle_the_status() -> None:
    b = running()
    b.add(ev.WorkflowPaused, reason="maintenance", operator="ops")
    assert status_of(b.events) is WorkflowStatus.PAUSED
    b.add(ev.WorkflowResumed, operator="ops")
    assert status_of(b.events) is WorkflowStatus.RUNNING
    b.add(ev.WorkflowPaused)
    assert status_of(b.events) is WorkflowStatus.PAUSED


def test_a_reopened_run_is_running_again_and_has_no_terminal() -> None:
    b = running()
    b.failed()
    assert status_of(b.events) is WorkflowStatus.FAILED
    b.add(ev.WorkflowReopened, reopened_activities=(1,))
    assert status_of(b.events) is WorkflowStatus.RUNNING
    assert current_terminal(b.events) is None
    cancelled = b.add(ev.WorkflowCancelled, reason="again")
    assert status_of(b.events) is WorkflowStatus.CANCELLED
    assert current_terminal(b.events) == cancelled


def test_continue_as_new_followed_by_a_new_start_is_running() -> None:
    b = two_runs()
    assert status_of(b.events) is WorkflowStatus.RUNNING
    assert current_terminal(b.events) is None
    assert status_of(b.events[:5]) is WorkflowStatus.CONTINUED_AS_NEW


def test_current_terminal_looks_back_only_to_the_last_reset_point() -> None:
    b = running()
    first = b.failed()
    b.add(ev.WorkflowReopened)
    b.activity(2)
    assert current_terminal(b.events) is None
    assert current_terminal(b.events[:5]) == first


def test_pause_and_resume_are_transparent_to_current_terminal() -> None:
    b = running()
    b.add(ev.WorkflowPaused)
    b.add(ev.WorkflowResumed)
    assert current_terminal(b.events) is None
    done = b.completed()
    assert current_terminal(b.events) == done


def test_events_after_a_terminal_do_not_hide_it() -> None:
    b = running()
    timed_out = b.add(ev.WorkflowTimedOut, timeout="1h")
    b.add(ev.SearchAttributesUpdated, attributes={"late": True})
    assert current_terminal(b.events) == timed_out
    assert status_of(b.events) is WorkflowStatus.TIMED_OUT


def test_run_segments_split_a_multi_run_history_at_each_start() -> None:
    b = two_runs()
    assert run_segments(b.events) == [RunSegment("run-1", 0, 5), RunSegment("run-2", 5, 7)]
    assert [e.run_id for e in run_segment(b.events, "run-1")] == ["run-1"] * 5
    assert list(run_segment(b.events, "run-2")) == b.events[5:]
    assert list(run_segment(b.events, "run-x")) == []
    assert list(current_run(b.events)) == b.events[5:]


def test_three_runs_each_get_their_segment() -> None:
    b = two_runs()
    b.add(ev.WorkflowContinuedAsNew, workflow_type="pipeline", input=encode(3), next_run_id="run-3")
    b.run_id = "run-3"
    start = b.started(value=3, parent_run_id="run-2")
    segments = run_segments(b.events)
    assert [s.run_id for s in segments] == ["run-1", "run-2", "run-3"]
    assert [(s.start, s.stop) for s in segments] == [(0, 5), (5, 8), (8, 9)]
    assert list(current_run(b.events)) == [start]
    assert status_of(b.events) is WorkflowStatus.RUNNING


def test_a_single_run_is_one_segment() -> None:
    history = completed_history()
    assert run_segments(history) == [RunSegment("run-1", 0, len(history))]
    assert list(current_run(history)) == history
    assert list(run_segment(history, "run-1")) == history


def test_a_history_without_a_start_has_no_runs() -> None:
    b = HistoryBuilder()
    b.add(ev.SignalReceived, name="early", payload=encode(1))
    assert run_segments(b.events) == []
    assert list(current_run(b.events)) == []
    assert status_of(b.events) is None


def test_the_sample_history_ends_timed_out_in_its_second_run() -> None:
    history = one_of_each()
    assert status_of(history) is WorkflowStatus.TERMINATED
    assert [s.run_id for s in run_segments(history)] == ["run-1", "run-2", "run-3"]
    assert isinstance(current_terminal(history), ev.WorkflowTerminated)


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        (WorkflowStatus.RUNNING, False),
        (WorkflowStatus.PAUSED, False),
        (WorkflowStatus.COMPLETED, True),
        (WorkflowStatus.FAILED, True),
        (WorkflowStatus.CANCELLED, True),
        (WorkflowStatus.TIMED_OUT, True),
        (WorkflowStatus.CONTINUED_AS_NEW, True),
    ],
)
def test_is_terminal(status: WorkflowStatus, terminal: bool) -> None:
    assert status.is_terminal is terminal


def test_statuses_are_their_string_values() -> None:
    assert len(WorkflowStatus) == 8
    assert WorkflowStatus("timed_out") is WorkflowStatus.TIMED_OUT
    assert str(WorkflowStatus.CONTINUED_AS_NEW) == "continued_as_new"
    assert WorkflowStatus.CONTINUED_AS_NEW.value == "continued_as_new"
