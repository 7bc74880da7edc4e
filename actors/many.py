"""Operator verbs over many workflows at once, by filter: ``client.terminate_many``,
``cancel_many``, ``pause_many``, ``resume_many`` and ``reopen_many`` (and their ``_async``
twins). Each lists the workflows the filter matches, takes those in a state the verb applies
to, and counts the ones it changed: a workflow whose state changed meanwhile (it ended, or
was paused by someone else) is skipped, not an error. Bad filters and reasons are refused
with InvalidInputError before anything is touched."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aion_ray.actors.handle import WorkflowHandle
from aion_ray.actors.handle_checks import check_name
from aion_ray.errors import InvalidInputError, WorkflowStateError, WorkflowTerminalError
from aion_ray.model import events as ev
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo

if TYPE_CHECKING:
    from aion_ray.actors.client import Client

Status = str | WorkflowStatus | None
Handle = WorkflowHandle[Any]

_OPEN = frozenset({WorkflowStatus.RUNNING, WorkflowStatus.PAUSED})
_ENDED = frozenset(
    {
        WorkflowStatus.FAILED,
        WorkflowStatus.CANCELLED,
        WorkflowStatus.TIMED_OUT,
        WorkflowStatus.TERMINATED,
    }
)


@dataclass(frozen=True)
class Verb:
    """One operator verb as the bulk forms apply it (``reason`` is None where it takes none);
    a call that answers False (a cancel of a run that ended) did not touch the workflow."""

    applies: frozenset[WorkflowStatus]
    call: Callable[[Handle, str], Any]
    call_async: Callable[[Handle, str], Awaitable[Any]]


VERBS = {
    "terminate": Verb(_OPEN, lambda h, r: h.terminate(r), lambda h, r: h.terminate_async(r)),
    "cancel": Verb(_OPEN, lambda h, r: h.cancel(r), lambda h, r: h.cancel_async(r)),
    "pause": Verb(
        frozenset({WorkflowStatus.RUNNING}), lambda h, r: h.pause(r), lambda h, r: h.pause_async(r)
    ),
    "resume": Verb(
        frozenset({WorkflowStatus.PAUSED}), lambda h, _: h.resume(), lambda h, _: h.resume_async()
    ),
    "reopen": Verb(_ENDED, lambda h, _: h.reopen(), lambda h, _: h.reopen_async()),
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


def apply_many(
    client: Client, verb: str, status: Status, workflow_type: str | None, reason: str | None
) -> int:
    """Apply ``verb`` to every workflow the filter matches that it applies to; how many
    it changed."""
    flt, how = _checked(verb, status, workflow_type, reason)
    touched = 0
    for info in _applicable(client.registry.list_workflows(flt).get(), how):
        try:
            answer = how.call(WorkflowHandle(client, info.workflow_id), reason or "")
        except (WorkflowStateError, WorkflowTerminalError):
            continue  # its state changed since it was listed
        touched += answer is not False
    return touched


async def apply_many_async(
    client: Client, verb: str, status: Status, workflow_type: str | None, reason: str | None
) -> int:
    flt, how = _checked(verb, status, workflow_type, reason)
    touched = 0
    for info in _applicable(await client.registry.list_workflows(flt), how):
        try:
            answer = await how.call_async(WorkflowHandle(client, info.workflow_id), reason or "")
        except (WorkflowStateError, WorkflowTerminalError):
            continue
        touched += answer is not False
    return touched


def _checked(
    verb: str, status: Status, workflow_type: str | None, reason: str | None
) -> tuple[WorkflowFilter, Verb]:
    if reason is not None:
        check_name(reason, f"{verb} reason")
    if workflow_type is not None and (not isinstance(workflow_type, str) or not workflow_type):
        raise InvalidInputError(f"workflow_type must be a non-empty str, got {workflow_type!r}")
    return list_filter(status, workflow_type), VERBS[verb]


def _applicable(infos: list[WorkflowInfo], verb: Verb) -> list[WorkflowInfo]:
    return [info for info in infos if WorkflowStatus(info.status) in verb.applies]
