"""The operator verbs as their bulk forms apply them (``terminate_many``, ``cancel_many``,
``pause_many``, ``resume_many``, ``reopen_many``, on the client and the TestEngine): which
statuses each applies to, the handle method that does it, and the checks of their filter,
made before anything is touched. A workflow whose state changed since it was listed (it
ended, someone else paused it) is skipped: ``SKIPPED`` are the errors that say so."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aion_ray.errors import InvalidInputError, WorkflowStateError, WorkflowTerminalError
from aion_ray.model import events as ev
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo

Status = str | WorkflowStatus | None
SKIPPED = (WorkflowStateError, WorkflowTerminalError)

_OPEN = frozenset({WorkflowStatus.RUNNING, WorkflowStatus.PAUSED})


@dataclass(frozen=True)
class BulkVerb:
    """``method`` of a handle (its ``_async`` twin too), the statuses it applies to, and
    whether it takes a reason."""

    method: str
    applies: frozenset[WorkflowStatus]
    takes_reason: bool = True

    def args(self, reason: str | None) -> tuple[Any, ...]:
        return (reason,) if self.takes_reason else ()

    def touched(self, answer: object) -> bool:
        """Whether the call changed the workflow (a cancel answers False for an ended run)."""
        return answer is not False


BULK_VERBS = {
    "terminate": BulkVerb("terminate", _OPEN),
    "cancel": BulkVerb("cancel", _OPEN),
    "pause": BulkVerb("pause", frozenset({WorkflowStatus.RUNNING})),
    "resume": BulkVerb("resume", frozenset({WorkflowStatus.PAUSED}), takes_reason=False),
    "reopen": BulkVerb(
        "reopen",
        frozenset(
            {
                WorkflowStatus.FAILED,
                WorkflowStatus.CANCELLED,
                WorkflowStatus.TIMED_OUT,
                WorkflowStatus.TERMINATED,
            }
        ),
        takes_reason=False,
    ),
}


def list_filter(
    status: Status = None,
    workflow_type: str | None = None,
    search_attributes: dict[str, ev.SearchAttributeValue] | None = None,
    limit: int | None = None,
) -> WorkflowFilter:
    """The store's filter for these conditions; InvalidInputError naming what is wrong."""
    try:
        return WorkflowFilter(
            status=(WorkflowStatus(status),) if status is not None else None,
            workflow_type=workflow_type,
            search_attributes=search_attributes or {},
            limit=limit,
        )
    except ValueError as exc:
        raise InvalidInputError(f"invalid list filter: {exc}") from exc


def bulk_filter(
    name: str, status: Status, workflow_type: str | None, reason: str | None
) -> tuple[BulkVerb, WorkflowFilter]:
    """The verb and the filter of a bulk call; InvalidInputError for a bad status, workflow
    type or reason."""
    verb = BULK_VERBS[name]
    if verb.takes_reason and (not isinstance(reason, str) or not reason):
        raise InvalidInputError(f"{name} reason must be a non-empty str, got {reason!r}")
    if workflow_type is not None and (not isinstance(workflow_type, str) or not workflow_type):
        raise InvalidInputError(f"workflow_type must be a non-empty str, got {workflow_type!r}")
    return verb, list_filter(status, workflow_type)


def apply_each(verb: BulkVerb, reason: str | None, handles: Iterable[Any]) -> int:
    """Call ``verb`` on each handle; how many it changed (a refusal by a state that changed
    since the listing is skipped)."""
    touched = 0
    for handle in handles:
        try:
            touched += verb.touched(getattr(handle, verb.method)(*verb.args(reason)))
        except SKIPPED:
            continue
    return touched


def applicable(infos: Iterable[WorkflowInfo], verb: BulkVerb) -> list[str]:
    """The ids of the listed workflows in a state ``verb`` applies to."""
    return [info.workflow_id for info in infos if WorkflowStatus(info.status) in verb.applies]
