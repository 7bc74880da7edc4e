"""Small translations the driver needs: child terminals, interrupted attempts, statuses."""

from __future__ import annotations

from typing import Any

from aion_ray.engine.recorder import EventDraft, draft
from aion_ray.errors import WorkflowCancelledError, WorkflowFailedError, WorkflowTimedOutError
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.history import STATUS_OF_EVENT
from aion_ray.model.payload import decode
from aion_ray.runtime.state import INTERRUPTED, Outstanding


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
    raise WorkflowFailedError(
        terminal.workflow_id,
        terminal.run_id,
        ErrorInfo(type="UnexpectedTerminal", message=f"run ended with {terminal.type}"),
    )
