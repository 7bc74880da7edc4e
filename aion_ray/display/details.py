"""What one event says, in a line: the essentials a reader looks for in a history table."""

from __future__ import annotations

import json

from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.payload import Payload


def payload_text(payload: Payload | None) -> str:
    """A payload's value as compact JSON; pickled values are opaque, so only their size shows."""
    if payload is None:
        return "None"
    if payload.codec != "json":
        return f"<{payload.codec}: {len(str(payload.value)):,} chars>"
    try:
        return json.dumps(payload.value, separators=(",", ":"), default=str)
    except ValueError:  # a circular value cannot come out of JSON, but repr never fails
        return repr(payload.value)


def error_text(error: ErrorInfo) -> str:
    return f"{error.type}: {error.message}"


def event_detail(event: ev.Event) -> str:
    """The event's own facts (the envelope aside), unabbreviated."""
    match event:
        case ev.WorkflowStarted():
            return f"{event.workflow_type}({payload_text(event.input)})"
        case ev.WorkflowCompleted():
            return f"-> {payload_text(event.result)}"
        case ev.WorkflowFailed():
            return error_text(event.error)
        case ev.WorkflowCancelRequested() | ev.WorkflowCancelled() | ev.WorkflowReopened():
            return event.reason
        case ev.WorkflowTimedOut():
            return event.timeout
        case ev.WorkflowContinuedAsNew():
            return f"next run {event.next_run_id}: {payload_text(event.input)}"
        case ev.SearchAttributesUpdated():
            return json.dumps(event.attributes, default=str)
    return _effect_detail(event)


def _effect_detail(event: ev.Event) -> str:
    match event:
        case ev.ActivityScheduled():
            where = " local" if event.local else ""
            return f"#{event.activity_id}{where} {event.activity_type}({payload_text(event.input)})"
        case ev.ActivityStarted() | ev.ActivityCancelled() | ev.ActivityHeartbeat():
            return f"#{event.activity_id} attempt {event.attempt}"
        case ev.ActivityCompleted():
            return f"#{event.activity_id} attempt {event.attempt} -> {payload_text(event.result)}"
        case ev.ActivityFailed():
            then = "final" if event.terminal else f"retry at {event.retry_at:%H:%M:%S}"
            return (
                f"#{event.activity_id} attempt {event.attempt} ({then}): {error_text(event.error)}"
            )
        case ev.TimerStarted():
            return f"#{event.timer_id} {event.name} until {event.fire_at:%Y-%m-%d %H:%M:%S}"
        case ev.TimerFired() | ev.TimerCancelled():
            return f"#{event.timer_id}"
        case ev.SignalReceived():
            return f"{event.name} = {payload_text(event.payload)}"
        case ev.SignalSent():
            return f"{event.name} -> {event.target_workflow_id} = {payload_text(event.payload)}"
    return _child_detail(event)


def _child_detail(event: ev.Event) -> str:
    match event:
        case ev.ChildWorkflowStarted():
            return f"#{event.child_id} {event.workflow_type} {event.child_workflow_id}"
        case ev.ChildWorkflowCompleted():
            return f"#{event.child_id} {event.child_workflow_id} -> {payload_text(event.result)}"
        case ev.ChildWorkflowFailed():
            return f"#{event.child_id} {event.child_workflow_id} {event.status}: " + error_text(
                event.error
            )
        case ev.MarkerRecorded():
            return f"{event.kind} {event.name}"
    return ""
