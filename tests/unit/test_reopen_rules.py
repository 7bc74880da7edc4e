"""The rules of reopening, as pure functions of a history: which ends may be reopened, what
a reopen names, and what the replay of a reopened run sees (``replayed_run``)."""

from __future__ import annotations

import pytest

from aion_ray.engine.unhosted import ended_in_failure, reopen_events
from aion_ray.errors import WorkflowNotFoundError, WorkflowStateError
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.history import may_follow_terminal, replayed_run, status_of
from aion_ray.model.payload import encode
from aion_ray.testing.clock import FakeClock
from tests.builders import HistoryBuilder

ERROR = ErrorInfo(type="ConnectionError", message="down")


def scheduled(b: HistoryBuilder, activity_id: int) -> None:
    b.add(ev.ActivityScheduled, activity_id=activity_id, activity_type="step", input=encode([1]))
    b.add(ev.ActivityStarted, activity_id=activity_id, attempt=1)


def failed_terminally(b: HistoryBuilder, activity_id: int, attempt: int = 1) -> ev.Event:
    failure: ev.Event = b.add(
        ev.ActivityFailed, activity_id=activity_id, attempt=attempt, error=ERROR, terminal=True
    )
    return failure


@pytest.mark.parametrize(
    ("terminal", "reopens"),
    [
        (ev.WorkflowFailed, True),
        (ev.WorkflowCancelled, True),
        (ev.WorkflowTimedOut, True),
        (ev.WorkflowTerminated, True),
        (ev.WorkflowCompleted, False),
        (ev.WorkflowContinuedAsNew, False),
    ],
)
def test_which_ends_a_reopen_may_follow(terminal: type[ev.EventBase], reopens: bool) -> None:
    reopen = ev.WorkflowReopened(
        workflow_id="wf-1", run_id="run-1", seq=9, recorded_at=HistoryBuilder().clock
    )
    assert may_follow_terminal(terminal, reopen) is reopens


def test_a_reopen_names_the_activities_that_failed_after_the_last_command() -> None:
    b = HistoryBuilder()
    b.started()
    scheduled(b, 1)
    failed_terminally(b, 1)  # caught by the code, which went on: not reopened
    scheduled(b, 2)
    scheduled(b, 3)
    failed_terminally(b, 2)  # ended the run, with 3 in flight
    b.failed()
    assert ended_in_failure(b.events) == (2,)
    [reopened] = reopen_events("wf-1", b.events, FakeClock())
    assert isinstance(reopened, ev.WorkflowReopened)
    assert (reopened.reopened_activities, reopened.seq) == ((2,), b.head + 1)


def test_what_the_replay_of_a_reopened_run_sees() -> None:
    b = HistoryBuilder()
    b.started()
    scheduled(b, 1)
    failure = failed_terminally(b, 1)
    b.failed()
    reopen = b.add(ev.WorkflowReopened, reopened_activities=(1,))
    view = replayed_run(b.events)
    assert [e.type for e in view] == [
        "WorkflowStarted",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivityFailed",
        "WorkflowReopened",
    ]
    retried = view[3]
    assert isinstance(retried, ev.ActivityFailed)
    assert (retried.terminal, retried.retry_at, retried.seq) == (False, reopen.recorded_at, 4)
    assert b.events[3] == failure  # the stored history does not change
    assert status_of(b.events) == "running"


def test_a_reopened_cancellation_is_taken_back_but_its_signals_are_kept() -> None:
    b = HistoryBuilder()
    b.started()
    scheduled(b, 1)
    b.add(ev.WorkflowCancelRequested, reason="oops")
    b.add(ev.ActivityCancelled, activity_id=1, attempt=1)
    b.add(ev.SignalReceived, name="late", payload=encode(1))
    b.add(ev.WorkflowCancelled, reason="oops")
    b.add(ev.WorkflowReopened)
    view = replayed_run(b.events)
    assert [e.type for e in view] == [
        "WorkflowStarted",
        "ActivityScheduled",
        "ActivityStarted",
        "SignalReceived",
        "WorkflowReopened",
    ]


def test_reopen_refuses_every_other_state() -> None:
    b = HistoryBuilder()
    b.started()
    with pytest.raises(WorkflowStateError, match="it is running"):
        reopen_events("wf-1", b.events, FakeClock())
    b.add(ev.WorkflowPaused)
    with pytest.raises(WorkflowStateError, match="it is paused"):
        reopen_events("wf-1", b.events, FakeClock())
    b.completed()
    with pytest.raises(WorkflowStateError, match="it is completed"):
        reopen_events("wf-1", b.events, FakeClock())
    with pytest.raises(WorkflowNotFoundError):
        reopen_events("wf-1", [], FakeClock())
