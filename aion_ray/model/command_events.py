"""The events of what workflow code asks for, and of what answers it: activities, timers,
signals, child workflows and markers. Each command (see ``aion_ray.runtime.commands``) is
recorded as one of these, and its outcome arrives as another. See ``aion_ray.model.events``
for the union of all events."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.event_base import MAX_INT64, EventBase, UtcDatetime
from aion_ray.model.payload import Payload

# --- activities -----------------------------------------------------------------------------


class ActivityScheduled(EventBase):
    """Activity #``activity_id`` (1-based, per run) was scheduled; recorded before dispatch."""

    type: Literal["ActivityScheduled"] = "ActivityScheduled"
    activity_id: int = Field(ge=1, le=MAX_INT64)
    activity_type: str = Field(min_length=1)
    input: Payload
    local: bool = False


class ActivityStarted(EventBase):
    type: Literal["ActivityStarted"] = "ActivityStarted"
    activity_id: int = Field(ge=1, le=MAX_INT64)
    attempt: int = Field(ge=1, le=MAX_INT64)


class ActivityCompleted(EventBase):
    type: Literal["ActivityCompleted"] = "ActivityCompleted"
    activity_id: int = Field(ge=1, le=MAX_INT64)
    attempt: int = Field(ge=1, le=MAX_INT64)
    result: Payload


class ActivityFailed(EventBase):
    """An attempt failed. ``terminal=False`` means another attempt follows at ``retry_at``."""

    type: Literal["ActivityFailed"] = "ActivityFailed"
    activity_id: int = Field(ge=1, le=MAX_INT64)
    attempt: int = Field(ge=1, le=MAX_INT64)
    error: ErrorInfo
    terminal: bool
    retry_at: UtcDatetime | None = None


class ActivityCancelled(EventBase):
    type: Literal["ActivityCancelled"] = "ActivityCancelled"
    activity_id: int = Field(ge=1, le=MAX_INT64)
    attempt: int = Field(ge=0, le=MAX_INT64)


class ActivityHeartbeat(EventBase):
    type: Literal["ActivityHeartbeat"] = "ActivityHeartbeat"
    activity_id: int = Field(ge=1, le=MAX_INT64)
    attempt: int = Field(ge=1, le=MAX_INT64)
    details: Payload | None = None


# --- timers ---------------------------------------------------------------------------------


class TimerStarted(EventBase):
    """Timer #``timer_id`` (1-based, per run) will fire at ``fire_at``; ``name`` says why."""

    type: Literal["TimerStarted"] = "TimerStarted"
    timer_id: int = Field(ge=1, le=MAX_INT64)
    fire_at: UtcDatetime
    name: str = "sleep"


class TimerFired(EventBase):
    type: Literal["TimerFired"] = "TimerFired"
    timer_id: int = Field(ge=1, le=MAX_INT64)


class TimerCancelled(EventBase):
    type: Literal["TimerCancelled"] = "TimerCancelled"
    timer_id: int = Field(ge=1, le=MAX_INT64)


# --- signals --------------------------------------------------------------------------------


class SignalReceived(EventBase):
    """A signal arrived; ``request_id`` lets a retried delivery be recognised."""

    type: Literal["SignalReceived"] = "SignalReceived"
    name: str = Field(min_length=1)
    payload: Payload
    request_id: str | None = None


class SignalSent(EventBase):
    type: Literal["SignalSent"] = "SignalSent"
    send_id: int = Field(ge=1, le=MAX_INT64)
    target_workflow_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    payload: Payload


# --- child workflows ------------------------------------------------------------------------


class ChildWorkflowStarted(EventBase):
    """Child #``child_id`` was recorded under ``child_workflow_id``; it is started after."""

    type: Literal["ChildWorkflowStarted"] = "ChildWorkflowStarted"
    child_id: int = Field(ge=1, le=MAX_INT64)
    child_workflow_id: str = Field(min_length=1)
    child_run_id: str = Field(min_length=1)
    workflow_type: str = Field(min_length=1)
    input: Payload


class ChildWorkflowCompleted(EventBase):
    type: Literal["ChildWorkflowCompleted"] = "ChildWorkflowCompleted"
    child_id: int = Field(ge=1, le=MAX_INT64)
    child_workflow_id: str
    result: Payload


class ChildWorkflowFailed(EventBase):
    """The child did not complete; ``status`` is failed, cancelled, timed_out or terminated."""

    type: Literal["ChildWorkflowFailed"] = "ChildWorkflowFailed"
    child_id: int = Field(ge=1, le=MAX_INT64)
    child_workflow_id: str
    error: ErrorInfo
    status: str = "failed"


# --- markers --------------------------------------------------------------------------------


class MarkerRecorded(EventBase):
    """A recorded decision, e.g. ``kind="patch"`` for ``ctx.patched(name)``."""

    type: Literal["MarkerRecorded"] = "MarkerRecorded"
    kind: str = Field(min_length=1)
    name: str = Field(min_length=1)
    details: Payload | None = None
