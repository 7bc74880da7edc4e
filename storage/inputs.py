"""Argument checks shared by every store entry point: bad input gets a typed error that names
what is wrong, before anything is read or written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import ValidationError

from aion_ray.errors import InvalidInputError
from aion_ray.model.ids import validate_workflow_id
from aion_ray.model.visibility import WorkflowFilter
from aion_ray.storage.contract import LifecycleEntry


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
    try:
        return [LifecycleEntry.model_validate(entry) for entry in entries]
    except ValidationError as exc:
        raise InvalidInputError(f"invalid lifecycle entry: {exc.errors()[0]['msg']}") from exc
    except TypeError as exc:
        raise InvalidInputError(f"lifecycle entries must be a sequence: {exc}") from exc
