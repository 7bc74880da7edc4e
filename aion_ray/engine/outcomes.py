"""Small decisions the driver needs: an attempt's outcome under its retry policy, child
terminals, interrupted attempts, statuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aion_ray.authoring.definitions import RetryPolicy
from aion_ray.engine.recorder import EventDraft, draft
from aion_ray.errors import (
    WorkflowCancelledError,
    WorkflowFailedError,
    WorkflowTerminatedError,
    WorkflowTimedOutError,
)
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.history import STATUS_OF_EVENT
from aion_ray.model.payload import Payload, decode
from aion_ray.runtime import commands as cmd
from aion_ray.runtime.state import INTERRUPTED, ActivityTrail, Outstanding


def child_outcome(outstanding: Outstanding, child_id: int, terminal: ev.Event) -> EventDraft | None:
    """The parent-side event for a child's terminal event (None if the child is not pending).

    A child that continued as new is followed to its final run by the host; a failed,
    cancelled or timed-out child becomes ChildWorkflowFailed with that status.
    """
    child = next((c for c in outstanding.children if c.child_id == child_id), None)
    if child is None or isinstance(terminal, ev.WorkflowContinuedAsNew):
        return None
    common = {"child_id": child_id, "child_workflow_id": child.child_workflow_id}
    match terminal:
        case ev.WorkflowCompleted():
            return draft(ev.ChildWorkflowCompleted, **common, result=terminal.result)
        case ev.WorkflowFailed():
            return draft(ev.ChildWorkflowFailed, **common, error=terminal.error, status="failed")
        case ev.WorkflowCancelled():
            error = ErrorInfo(type="WorkflowCancelledError", message=terminal.reason)
            return draft(ev.ChildWorkflowFailed, **common, error=error, status="cancelled")
        case ev.WorkflowTimedOut():
            error = ErrorInfo(type="WorkflowTimedOutError", message=terminal.timeout)
            return draft(ev.ChildWorkflowFailed, **common, error=error, status="timed_out")
        case ev.WorkflowTerminated():
            error = ErrorInfo(type="WorkflowTerminatedError", message=terminal.reason)
            return draft(ev.ChildWorkflowFailed, **common, error=error, status="terminated")
    return None


def interrupted(attempt: int) -> ErrorInfo:
    """The failure recorded for an attempt whose host stopped before its result was recorded."""
    return ErrorInfo(
        type=INTERRUPTED,
        message=f"attempt {attempt} was interrupted: the workflow's host stopped before its "
        "result was recorded",
    )


def terminal_status(terminal: ev.Event | None) -> str:
    return str(STATUS_OF_EVENT[type(terminal)]) if terminal is not None else "running"


NEVER_RETRIED = frozenset({"PayloadError", "InvalidInputError", "WorkflowUsageError"})
"""Errors that no retry can fix: bad input stays bad."""


@dataclass(frozen=True)
class AttemptEnded:
    """The event that records an attempt's end, and when to retry (None: no retry)."""

    event: EventDraft
    retry_at: datetime | None = None


def attempt_ended(
    trail: ActivityTrail,
    activity_id: int,
    attempt: int,
    result: Payload | None,
    error: ErrorInfo | None,
    retry_now: bool,
    now: datetime,
) -> AttemptEnded:
    """Record a result, or a failure retried or terminal per the activity's RetryPolicy.
    ``retry_now`` is for attempts lost to a host crash: retried at once, and they spend
    none of the budget (the policy counts the activity's own failures)."""
    ids = {"activity_id": activity_id, "attempt": attempt}
    if error is None:
        return AttemptEnded(draft(ev.ActivityCompleted, **ids, result=result))
    policy = trail.command.options.retry if trail.command else RetryPolicy()
    tries = trail.failures + 1
    if not retry_now and (
        error.type in NEVER_RETRIED or not policy.allows_retry(tries, error.type)
    ):
        return AttemptEnded(draft(ev.ActivityFailed, **ids, error=error, terminal=True))
    retry_at = now + timedelta(seconds=0.0 if retry_now else policy.delay_after(tries))
    failed = draft(ev.ActivityFailed, **ids, error=error, terminal=False, retry_at=retry_at)
    return AttemptEnded(failed, retry_at)


def child_command(event: ev.ChildWorkflowStarted, bound: cmd.StartChild | None) -> cmd.StartChild:
    """The command to (re)start a recorded child, with the definition the code bound to it."""
    return cmd.StartChild(
        event.child_id,
        event.child_workflow_id,
        event.child_run_id,
        event.workflow_type,
        event.input,
        bound.definition if bound else None,
    )


def result_from_terminal(terminal: ev.Event, result_type: Any) -> Any:
    """The decoded result of a run that ended with ``terminal``, or the error it ended with."""
    match terminal:
        case ev.WorkflowCompleted():
            return decode(terminal.result, result_type, what="workflow result")
        case ev.WorkflowFailed():
            raise WorkflowFailedError(terminal.workflow_id, terminal.run_id, terminal.error)
        case ev.WorkflowCancelled():
            raise WorkflowCancelledError(terminal.workflow_id, terminal.run_id, terminal.reason)
        case ev.WorkflowTimedOut():
            raise WorkflowTimedOutError(terminal.workflow_id, terminal.run_id, terminal.timeout)
        case ev.WorkflowTerminated():
            raise WorkflowTerminatedError(terminal.workflow_id, terminal.run_id, terminal.reason)
    raise WorkflowFailedError(
        terminal.workflow_id,
        terminal.run_id,
        ErrorInfo(type="UnexpectedTerminal", message=f"run ended with {terminal.type}"),
    )
