"""Build well-formed events and histories for tests, with fixed ids and times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.payload import encode

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


class HistoryBuilder:
    """Appends events for one workflow with contiguous seqs and a ticking clock."""

    def __init__(self, workflow_id: str = "wf-1", run_id: str = "run-1", start: datetime = T0):
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.events: list[ev.Event] = []
        self.clock = start

    @property
    def head(self) -> int:
        return len(self.events)

    def add(self, cls: type[Any], **fields: Any) -> Any:
        self.clock += timedelta(seconds=1)
        event = cls(
            workflow_id=self.workflow_id,
            run_id=fields.pop("run_id", self.run_id),
            seq=self.head + 1,
            recorded_at=fields.pop("recorded_at", self.clock),
            **fields,
        )
        self.events.append(event)
        return event

    def started(self, workflow_type: str = "pipeline", value: Any = None, **fields: Any) -> Any:
        return self.add(
            ev.WorkflowStarted, workflow_type=workflow_type, input=encode(value), **fields
        )

    def completed(self, value: Any = "done") -> Any:
        return self.add(ev.WorkflowCompleted, result=encode(value))

    def failed(self, message: str = "boom") -> Any:
        return self.add(ev.WorkflowFailed, error=ErrorInfo(type="RuntimeError", message=message))

    def activity(self, activity_id: int, value: Any = 1, activity_type: str = "train") -> list[Any]:
        return [
            self.add(
                ev.ActivityScheduled,
                activity_id=activity_id,
                activity_type=activity_type,
                input=encode([value]),
            ),
            self.add(ev.ActivityStarted, activity_id=activity_id, attempt=1),
            self.add(
                ev.ActivityCompleted, activity_id=activity_id, attempt=1, result=encode(value)
            ),
        ]

    def timer(self, timer_id: int, seconds: float) -> Any:
        return self.add(
            ev.TimerStarted, timer_id=timer_id, fire_at=self.clock + timedelta(seconds=1 + seconds)
        )

    def since(self, seq: int) -> list[ev.Event]:
        """Events with seq > ``seq``: what an append with ``expected_seq=seq`` carries."""
        return self.events[seq:]


def one_of_each(workflow_id: str = "wf-all") -> list[ev.Event]:
    """A valid history holding every event type at least once."""
    b = HistoryBuilder(workflow_id)
    err = ErrorInfo(type="ValueError", message="bad", traceback="tb")
    b.started(value={"lr": 0.1}, code_fingerprint="abc", execution_timeout=3600.0)
    b.add(ev.SearchAttributesUpdated, attributes={"team": "ml", "tags": ["a", "b"], "n": 3})
    b.add(ev.MarkerRecorded, kind="patch", name="v2")
    b.activity(1, {"x": 1})
    b.add(ev.ActivityScheduled, activity_id=2, activity_type="eval", input=encode([]), local=True)
    b.add(ev.ActivityStarted, activity_id=2, attempt=1)
    b.add(ev.ActivityHeartbeat, activity_id=2, attempt=1, details=encode(0.5))
    b.add(
        ev.ActivityFailed,
        activity_id=2,
        attempt=1,
        error=err,
        terminal=False,
        retry_at=b.clock + timedelta(seconds=5),
    )
    b.add(ev.ActivityStarted, activity_id=2, attempt=2)
    b.add(ev.ActivityCancelled, activity_id=2, attempt=2)
    b.timer(1, 60)
    b.add(ev.TimerFired, timer_id=1)
    b.timer(2, 60)
    b.add(ev.TimerCancelled, timer_id=2)
    b.add(ev.SignalReceived, name="approve", payload=encode(True), request_id="req-1")
    b.add(ev.SignalSent, send_id=1, target_workflow_id="other", name="ping", payload=encode(1))
    b.add(
        ev.ChildWorkflowStarted,
        child_id=1,
        child_workflow_id="child-1",
        child_run_id="cr-1",
        workflow_type="child",
        input=encode(None),
    )
    b.add(ev.ChildWorkflowCompleted, child_id=1, child_workflow_id="child-1", result=encode(2))
    b.add(
        ev.ChildWorkflowStarted,
        child_id=2,
        child_workflow_id="child-2",
        child_run_id="cr-2",
        workflow_type="child",
        input=encode(None),
    )
    b.add(
        ev.ChildWorkflowFailed,
        child_id=2,
        child_workflow_id="child-2",
        error=err,
        status="cancelled",
    )
    b.add(ev.WorkflowPaused, reason="hold", operator="ops")
    b.add(ev.WorkflowResumed, operator="ops")
    b.add(ev.WorkflowCancelRequested, reason="superseded")
    b.failed("cleanup failed")
    b.add(ev.WorkflowReopened, reopened_activities=(2,), reason="fixed")
    b.failed()
    b.add(ev.WorkflowReopened, reason="again")
    b.add(ev.WorkflowContinuedAsNew, workflow_type="pipeline", input=encode(2), next_run_id="run-2")
    b.run_id = "run-2"
    b.started(value=2, parent_run_id="run-1")
    b.add(ev.WorkflowTimedOut, timeout="execution timeout 3600s")
    b.run_id = "run-3"
    b.started(value=3)
    b.add(ev.WorkflowTerminated, reason="operator")
    return b.events


def cancelled_history(workflow_id: str = "wf-cancelled") -> list[Any]:
    b = HistoryBuilder(workflow_id)
    b.started()
    b.add(ev.WorkflowCancelRequested, reason="superseded")
    b.add(ev.WorkflowCancelled, reason="superseded")
    return b.events


def completed_history(workflow_id: str = "wf-done", workflow_type: str = "pipeline") -> list[Any]:
    b = HistoryBuilder(workflow_id)
    b.started(workflow_type)
    b.activity(1)
    b.completed()
    return b.events


COMMAND_EVENTS = (
    ev.ActivityScheduled, ev.ActivityCancelled, ev.TimerStarted, ev.TimerCancelled,
    ev.ChildWorkflowStarted, ev.SignalSent, ev.MarkerRecorded, ev.SearchAttributesUpdated,
    ev.WorkflowCompleted, ev.WorkflowFailed, ev.WorkflowCancelled, ev.WorkflowContinuedAsNew,
)  # fmt: skip
"""The events that record a command of the code (each must be asked for again on replay)."""


def recorded_commands(history: Sequence[ev.Event]) -> int:
    return sum(isinstance(event, COMMAND_EVENTS) for event in history)
