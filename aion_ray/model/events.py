"""The event model: every fact a workflow history can hold, as frozen pydantic models.

One append-only history per workflow id spans all its runs. Every event carries the envelope
``workflow_id``, ``run_id``, ``seq`` (1-based, contiguous per workflow id) and ``recorded_at``
(aware UTC). ``Event`` is the discriminated union of all of them (tag: ``type``, the class name);
``EVENT_ADAPTER`` encodes and decodes it. Names are past tense: an event is something that
happened. New fields must get defaults, so old histories keep decoding.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.payload import Payload

MAX_INT64 = 2**63 - 1
"""Ids, seqs and attempts are stored as BIGINT: larger values are refused up front."""
MAX_DURATION_SECONDS = 100 * 366 * 86400
"""The longest timeout or sleep accepted: a century."""

SearchAttributeValue = (
    str
    | Annotated[int, Field(ge=-MAX_INT64 - 1, le=MAX_INT64)]
    | Annotated[float, Field(allow_inf_nan=False)]
    | bool
    | list[str]
)


def _to_utc(value: datetime) -> datetime:
    return value if value.tzinfo is UTC else value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


class EventBase(BaseModel):
    """The envelope every event carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow_id: str = Field(min_length=1)
    run_id: str = Field(min_length=1)
    seq: int = Field(ge=1, le=MAX_INT64)
    recorded_at: UtcDatetime


class ParentRef(BaseModel):
    """The parent of a child workflow: where its outcome is reported."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow_id: str
    run_id: str
    child_id: int = Field(ge=1, le=MAX_INT64)


# --- workflow lifecycle ---------------------------------------------------------------------


class WorkflowStarted(EventBase):
    """A run began. ``parent_run_id`` is the previous run of a continue-as-new chain."""

    type: Literal["WorkflowStarted"] = "WorkflowStarted"
    workflow_type: str = Field(min_length=1)
    input: Payload
    parent_run_id: str | None = None
    parent: ParentRef | None = None
    code_fingerprint: str = ""
    execution_timeout: float | None = Field(
        default=None, gt=0, le=MAX_DURATION_SECONDS, allow_inf_nan=False
    )
    search_attributes: dict[str, SearchAttributeValue] | None = None


class WorkflowCompleted(EventBase):
    type: Literal["WorkflowCompleted"] = "WorkflowCompleted"
    result: Payload


class WorkflowFailed(EventBase):
    type: Literal["WorkflowFailed"] = "WorkflowFailed"
    error: ErrorInfo


class WorkflowCancelRequested(EventBase):
    """Cancellation was asked for; the workflow sees CancelledError at its current await."""

    type: Literal["WorkflowCancelRequested"] = "WorkflowCancelRequested"
    reason: str = ""


class WorkflowCancelled(EventBase):
    type: Literal["WorkflowCancelled"] = "WorkflowCancelled"
    reason: str = ""


class WorkflowTimedOut(EventBase):
    type: Literal["WorkflowTimedOut"] = "WorkflowTimedOut"
    timeout: str


class WorkflowContinuedAsNew(EventBase):
    """This run ended; run ``next_run_id`` continues the same history with ``input``."""

    type: Literal["WorkflowContinuedAsNew"] = "WorkflowContinuedAsNew"
    workflow_type: str
    input: Payload
    next_run_id: str


class WorkflowReopened(EventBase):
    """A failed or cancelled run resumes; listed activities run again instead of failing."""

    type: Literal["WorkflowReopened"] = "WorkflowReopened"
    reopened_activities: tuple[int, ...] = ()
    reason: str = ""


class WorkflowPaused(EventBase):
    type: Literal["WorkflowPaused"] = "WorkflowPaused"
    reason: str = ""
    operator: str = ""


class WorkflowResumed(EventBase):
    type: Literal["WorkflowResumed"] = "WorkflowResumed"
    operator: str = ""


class SearchAttributesUpdated(EventBase):
    type: Literal["SearchAttributesUpdated"] = "SearchAttributesUpdated"
    attributes: dict[str, SearchAttributeValue]


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
    """The child did not complete; ``status`` is failed, cancelled or timed_out."""

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


Event = Annotated[
    WorkflowStarted
    | WorkflowCompleted
    | WorkflowFailed
    | WorkflowCancelRequested
    | WorkflowCancelled
    | WorkflowTimedOut
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
