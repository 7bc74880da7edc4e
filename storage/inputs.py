"""Argument checks shared by every store entry point: bad input gets a typed error that names
what is wrong, before anything is read or written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from pydantic import ValidationError

from aion_ray.errors import InvalidEventError, InvalidInputError
from aion_ray.model.events import Event
from aion_ray.model.ids import validate_workflow_id
from aion_ray.model.rows import EncodedEvents, epoch_us
from aion_ray.model.visibility import WorkflowFilter
from aion_ray.storage.codec import EventColumns
from aion_ray.storage.contract import AppendRequest, LifecycleEntry
from aion_ray.storage.suspensions import check_suspensions


def checked_id(workflow_id: object) -> str:
    return validate_workflow_id(workflow_id)


def checked_seq(from_seq: object) -> int:
    if isinstance(from_seq, bool) or not isinstance(from_seq, int):
        raise InvalidInputError(f"from_seq must be an int, got {type(from_seq).__name__}")
    return from_seq


def checked_time(as_of: object, limit: object) -> tuple[datetime, int]:
    if not isinstance(as_of, datetime) or as_of.tzinfo is None:
        raise InvalidInputError(f"as_of must be an aware datetime, got {as_of!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise InvalidInputError(f"limit must be a non-negative int, got {limit!r}")
    return as_of, limit


def checked_filter(flt: object) -> WorkflowFilter:
    if flt is None:
        return WorkflowFilter()
    if not isinstance(flt, WorkflowFilter):
        raise InvalidInputError(f"expected a WorkflowFilter, got {type(flt).__name__}")
    return flt


def checked_entries(entries: Sequence[object]) -> list[LifecycleEntry]:
    """LifecycleEntries, each ``suspended`` one a suspension (``SuspendedWorkflow.entry``)."""
    try:
        checked = [LifecycleEntry.model_validate(entry) for entry in entries]
    except ValidationError as exc:
        raise InvalidInputError(f"invalid lifecycle entry: {exc.errors()[0]['msg']}") from exc
    except TypeError as exc:
        raise InvalidInputError(f"lifecycle entries must be a sequence: {exc}") from exc
    check_suspensions(checked)
    return checked


def checked_requests(requests: object) -> list[AppendRequest]:
    """A batch of AppendRequests, each with exactly one of a lease or an ``acquire`` holder
    name; anything else is refused for the whole batch before anything is written."""
    if isinstance(requests, str | bytes) or not isinstance(requests, Sequence):
        raise InvalidInputError(
            f"append_batch needs a sequence of AppendRequest, got {requests!r:.80}"
        )
    checked = []
    for index, request in enumerate(requests):
        if not isinstance(request, AppendRequest):
            raise InvalidInputError(f"request {index} is not an AppendRequest: {request!r:.80}")
        if (request.lease is None) == (request.acquire is None):
            raise InvalidInputError(
                f"request {index} for {request.workflow_id!r} needs either a lease or an "
                "acquire holder name, not both or neither"
            )
        if request.acquire is not None and not isinstance(request.acquire, str):
            raise InvalidInputError(f"request {index}: acquire must be a holder name (str)")
        lifecycle = checked_entries(request.lifecycle)
        checked.append(replace(request, lifecycle=tuple(lifecycle)))
    return checked


def decoded(request: AppendRequest) -> tuple[Sequence[Event], EventColumns | None]:
    """A request's events, and their rows when the caller sent them encoded (the store then
    writes those rows as they came); a corrupt row fails this request alone."""
    events = request.events
    if not isinstance(events, EncodedEvents):
        return events, None
    if events.workflow_id != request.workflow_id:
        raise InvalidEventError(
            request.workflow_id, f"encoded events belong to workflow {events.workflow_id!r}"
        )
    try:
        models = events.decode()
    except (ValidationError, ValueError, TypeError, IndexError, OverflowError) as exc:
        raise InvalidEventError(request.workflow_id, f"corrupt encoded events: {exc}") from exc
    for row, event in zip(events.rows, models, strict=True):
        # The rows are written as they came, so their columns must say what their data does
        # (a duplicate key in ``data`` would otherwise decode to another envelope).
        if row[:4] != (event.seq, event.type, event.run_id, epoch_us(event.recorded_at)):
            raise InvalidEventError(
                request.workflow_id, f"corrupt encoded events: row {row[:4]} decodes otherwise"
            )
    return models, EventColumns.of_rows(events.workflow_id, events.rows)
