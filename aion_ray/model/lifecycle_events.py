"""The events of a run's lifecycle: its start and end, cancellation, reopening, pausing, and
its search attributes. See ``aion_ray.model.events`` for the union of all events."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.event_base import (
    MAX_DURATION_SECONDS,
    MAX_INT64,
    EventBase,
    SearchAttributeValue,
)
from aion_ray.model.payload import Payload


class ParentRef(BaseModel):
    """The parent of a child workflow: where its outcome is reported."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow_id: str
    run_id: str
    child_id: int = Field(ge=1, le=MAX_INT64)


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


class WorkflowTerminated(EventBase):
    """An operator ended the run at once: the workflow code saw nothing and ran no cleanup."""

    type: Literal["WorkflowTerminated"] = "WorkflowTerminated"
    reason: str = ""


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
