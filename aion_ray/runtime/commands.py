"""Commands: what workflow code asks the engine to do, one recorded event each.

Every durable call becomes a command with a correlation key (activity #n, timer #n, child #n,
signal send #n, marker name, ...). Replay matches a command to the recorded event with the
same key; a command with no recorded event goes live: the host records its event (``to_event``)
and then carries it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aion_ray.authoring.definitions import ActivityDefinition, ActivityOptions, WorkflowDefinition
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.payload import Payload

Key = tuple[Any, ...]
CLOSE_KEY: Key = ("close",)


@dataclass(frozen=True, slots=True)
class Envelope:
    """The fields the host stamps on every event it records."""

    workflow_id: str
    run_id: str
    seq: int
    recorded_at: datetime

    def fields(self) -> dict[str, Any]:
        return {
            "workflow_id": self.workflow_id,
            "run_id": self.run_id,
            "seq": self.seq,
            "recorded_at": self.recorded_at,
        }


@dataclass(frozen=True, slots=True)
class ScheduleActivity:
    activity_id: int
    activity_type: str
    input: Payload
    options: ActivityOptions = field(default_factory=ActivityOptions)
    # What the host runs; not part of the recorded request.
    definition: ActivityDefinition[Any, Any] | None = field(default=None, compare=False)

    @property
    def key(self) -> Key:
        return ("activity", self.activity_id)

    def describe(self) -> str:
        return f"activity {self.activity_type} #{self.activity_id}"

    def to_event(self, env: Envelope) -> ev.Event:
        return ev.ActivityScheduled(
            **env.fields(),
            activity_id=self.activity_id,
            activity_type=self.activity_type,
            input=self.input,
            local=self.options.local,
        )


@dataclass(frozen=True, slots=True)
class RequestCancelActivity:
    activity_id: int

    @property
    def key(self) -> Key:
        return ("activity_cancel", self.activity_id)

    def describe(self) -> str:
        return f"cancel activity #{self.activity_id}"

    def to_event(self, env: Envelope) -> ev.Event:
        return ev.ActivityCancelled(**env.fields(), activity_id=self.activity_id, attempt=0)


@dataclass(frozen=True, slots=True)
class StartTimer:
    timer_id: int
    fire_at: datetime
    name: str = "sleep"

    @property
    def key(self) -> Key:
        return ("timer", self.timer_id)

    def describe(self) -> str:
        return f"timer {self.name} #{self.timer_id}"

    def to_event(self, env: Envelope) -> ev.Event:
        return ev.TimerStarted(
            **env.fields(), timer_id=self.timer_id, fire_at=self.fire_at, name=self.name
        )


@dataclass(frozen=True, slots=True)
class CancelTimer:
    timer_id: int

    @property
    def key(self) -> Key:
        return ("timer_cancel", self.timer_id)

    def describe(self) -> str:
        return f"cancel timer #{self.timer_id}"

    def to_event(self, env: Envelope) -> ev.Event:
        return ev.TimerCancelled(**env.fields(), timer_id=self.timer_id)


@dataclass(frozen=True, slots=True)
class StartChild:
    child_id: int
    child_workflow_id: str
    child_run_id: str
    workflow_type: str
    input: Payload
    definition: WorkflowDefinition[Any] | None = field(default=None, compare=False)

    @property
    def key(self) -> Key:
        return ("child", self.child_id)

    def describe(self) -> str:
        return f"child workflow {self.workflow_type} #{self.child_id}"

    def to_event(self, env: Envelope) -> ev.Event:
        return ev.ChildWorkflowStarted(
            **env.fields(),
            child_id=self.child_id,
            child_workflow_id=self.child_workflow_id,
            child_run_id=self.child_run_id,
            workflow_type=self.workflow_type,
            input=self.input,
        )


@dataclass(frozen=True, slots=True)
class SendSignal:
    send_id: int
    target_workflow_id: str
    name: str
    payload: Payload

    @property
    def key(self) -> Key:
        return ("send", self.send_id)

    def describe(self) -> str:
        return f"signal {self.name!r} to {self.target_workflow_id} #{self.send_id}"

    def to_event(self, env: Envelope) -> ev.Event:
        return ev.SignalSent(
            **env.fields(),
            send_id=self.send_id,
            target_workflow_id=self.target_workflow_id,
            name=self.name,
            payload=self.payload,
        )


@dataclass(frozen=True, slots=True)
class RecordMarker:
    kind: str
    name: str
    details: Payload | None = None

    @property
    def key(self) -> Key:
        return ("marker", self.kind, self.name)

    def describe(self) -> str:
        return f"{self.kind} marker {self.name!r}"

    def to_event(self, env: Envelope) -> ev.Event:
        return ev.MarkerRecorded(
            **env.fields(), kind=self.kind, name=self.name, details=self.details
        )


@dataclass(frozen=True, slots=True)
class UpsertSearchAttributes:
    ordinal: int
    attributes: dict[str, ev.SearchAttributeValue]

    @property
    def key(self) -> Key:
        return ("upsert", self.ordinal)

    def describe(self) -> str:
        return f"search attribute update #{self.ordinal}"

    def to_event(self, env: Envelope) -> ev.Event:
        return ev.SearchAttributesUpdated(**env.fields(), attributes=self.attributes)


@dataclass(frozen=True, slots=True)
class CompleteWorkflow:
    result: Payload
    key: Key = CLOSE_KEY

    def describe(self) -> str:
        return "complete the run"

    def to_event(self, env: Envelope) -> ev.Event:
        return ev.WorkflowCompleted(**env.fields(), result=self.result)


@dataclass(frozen=True, slots=True)
class FailWorkflow:
    error: ErrorInfo
    key: Key = CLOSE_KEY

    def describe(self) -> str:
        return "fail the run"

    def to_event(self, env: Envelope) -> ev.Event:
        return ev.WorkflowFailed(**env.fields(), error=self.error)


@dataclass(frozen=True, slots=True)
class CancelWorkflow:
    reason: str
    key: Key = CLOSE_KEY

    def describe(self) -> str:
        return "end the run as cancelled"

    def to_event(self, env: Envelope) -> ev.Event:
        return ev.WorkflowCancelled(**env.fields(), reason=self.reason)


@dataclass(frozen=True, slots=True)
class ContinueAsNew:
    workflow_type: str
    input: Payload
    next_run_id: str
    key: Key = CLOSE_KEY

    def describe(self) -> str:
        return "continue as new"

    def to_event(self, env: Envelope) -> ev.Event:
        return ev.WorkflowContinuedAsNew(
            **env.fields(),
            workflow_type=self.workflow_type,
            input=self.input,
            next_run_id=self.next_run_id,
        )


Command = (
    ScheduleActivity
    | RequestCancelActivity
    | StartTimer
    | CancelTimer
    | StartChild
    | SendSignal
    | RecordMarker
    | UpsertSearchAttributes
    | CompleteWorkflow
    | FailWorkflow
    | CancelWorkflow
    | ContinueAsNew
)
CLOSING_COMMANDS = (CompleteWorkflow, FailWorkflow, CancelWorkflow, ContinueAsNew)
