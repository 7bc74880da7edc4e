"""The event model: every fact a workflow history can hold, as frozen pydantic models.

One append-only history per workflow id spans all its runs. Every event carries the envelope
``workflow_id``, ``run_id``, ``seq`` (1-based, contiguous per workflow id) and ``recorded_at``
(aware UTC). ``Event`` is the discriminated union of all of them (tag: ``type``, the class name);
``EVENT_ADAPTER`` encodes and decodes it. Names are past tense: an event is something that
happened. New fields must get defaults, so old histories keep decoding.

The classes are defined by topic (``event_base``, ``lifecycle_events``, ``command_events``)
and all importable from here. The encoded form names a class by its ``type`` tag alone, so
where a class is defined is not part of any stored history.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, TypeAdapter

from aion_ray.model.command_events import (
    ActivityCancelled,
    ActivityCompleted,
    ActivityFailed,
    ActivityHeartbeat,
    ActivityScheduled,
    ActivityStarted,
    ChildWorkflowCompleted,
    ChildWorkflowFailed,
    ChildWorkflowStarted,
    MarkerRecorded,
    SignalReceived,
    SignalSent,
    TimerCancelled,
    TimerFired,
    TimerStarted,
)
from aion_ray.model.event_base import (
    MAX_DURATION_SECONDS,
    MAX_INT64,
    EventBase,
    SearchAttributeValue,
    UtcDatetime,
)
from aion_ray.model.lifecycle_events import (
    ParentRef,
    SearchAttributesUpdated,
    WorkflowCancelled,
    WorkflowCancelRequested,
    WorkflowCompleted,
    WorkflowContinuedAsNew,
    WorkflowFailed,
    WorkflowPaused,
    WorkflowReopened,
    WorkflowResumed,
    WorkflowStarted,
    WorkflowTerminated,
    WorkflowTimedOut,
)

__all__ = [
    "ENVELOPE_FIELDS",
    "EVENT_ADAPTER",
    "EVENT_LIST_ADAPTER",
    "EVENT_TYPES",
    "MAX_DURATION_SECONDS",
    "MAX_INT64",
    "TERMINAL_EVENTS",
    "ActivityCancelled",
    "ActivityCompleted",
    "ActivityFailed",
    "ActivityHeartbeat",
    "ActivityScheduled",
    "ActivityStarted",
    "ChildWorkflowCompleted",
    "ChildWorkflowFailed",
    "ChildWorkflowStarted",
    "Event",
    "EventBase",
    "MarkerRecorded",
    "ParentRef",
    "SearchAttributeValue",
    "SearchAttributesUpdated",
    "SignalReceived",
    "SignalSent",
    "TimerCancelled",
    "TimerFired",
    "TimerStarted",
    "UtcDatetime",
    "WorkflowCancelRequested",
    "WorkflowCancelled",
    "WorkflowCompleted",
    "WorkflowContinuedAsNew",
    "WorkflowFailed",
    "WorkflowPaused",
    "WorkflowReopened",
    "WorkflowResumed",
    "WorkflowStarted",
    "WorkflowTerminated",
    "WorkflowTimedOut",
    "event_from_json",
    "event_to_json",
]


Event = Annotated[
    WorkflowStarted
    | WorkflowCompleted
    | WorkflowFailed
    | WorkflowCancelRequested
    | WorkflowCancelled
    | WorkflowTimedOut
    | WorkflowTerminated
    | WorkflowContinuedAsNew
    | WorkflowReopened
    | WorkflowPaused
    | WorkflowResumed
    | SearchAttributesUpdated
    | ActivityScheduled
    | ActivityStarted
    | ActivityCompleted
    | ActivityFailed
    | ActivityCancelled
    | ActivityHeartbeat
    | TimerStarted
    | TimerFired
    | TimerCancelled
    | SignalReceived
    | SignalSent
    | ChildWorkflowStarted
    | ChildWorkflowCompleted
    | ChildWorkflowFailed
    | MarkerRecorded,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
EVENT_LIST_ADAPTER: TypeAdapter[list[Event]] = TypeAdapter(list[Event])
ENVELOPE_FIELDS = frozenset({"type", "workflow_id", "run_id", "seq", "recorded_at"})

TERMINAL_EVENTS: tuple[type[EventBase], ...] = (
    WorkflowCompleted,
    WorkflowFailed,
    WorkflowCancelled,
    WorkflowTimedOut,
    WorkflowTerminated,
    WorkflowContinuedAsNew,
)
"""Events that end a run: after one, only a new run or a reopen may follow."""

EVENT_TYPES: dict[str, type[EventBase]] = {
    cls.model_fields["type"].default: cls
    for cls in EventBase.__subclasses__()
    if "type" in cls.model_fields
}


def event_to_json(event: Event) -> str:
    """The event as JSON text, including its envelope and ``type`` tag."""
    return event.model_dump_json()


def event_from_json(text: str | bytes) -> Event:
    """Decode one event from JSON; raises pydantic's ValidationError if malformed."""
    return EVENT_ADAPTER.validate_json(text)
