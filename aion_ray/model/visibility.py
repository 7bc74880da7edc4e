"""The visibility projection: one WorkflowInfo per workflow id, folded from its events.

Stores keep it as a derived cache for fast listing (updated in the same transaction as the
append, rebuildable from the events); ``apply_event`` is the one fold both stores use.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from aion_ray.errors import InvalidInputError
from aion_ray.model.events import (
    MAX_INT64,
    TERMINAL_EVENTS,
    Event,
    SearchAttributesUpdated,
    SearchAttributeValue,
    UtcDatetime,
    WorkflowReopened,
    WorkflowStarted,
)
from aion_ray.model.history import STATUS_OF_EVENT, WorkflowStatus

_ATTRIBUTE: TypeAdapter[SearchAttributeValue] = TypeAdapter(SearchAttributeValue)


def checked_search_attributes(attributes: object) -> dict[str, SearchAttributeValue]:
    """``attributes`` copied if it maps str names to search-attribute values (a str, an int
    in BIGINT range, a finite float, a bool, a list of str); else InvalidInputError naming
    the first bad entry. Strict: nothing is converted (a datetime is no str)."""
    if not isinstance(attributes, Mapping):
        raise InvalidInputError(f"search attributes must be a dict, got {attributes!r}")
    for name, value in attributes.items():
        if not isinstance(name, str):
            raise InvalidInputError(f"a search attribute's name must be a str, got {name!r}")
        try:  # one at a time, so the error names the entry (an int never becomes a float)
            _ATTRIBUTE.validate_python(value, strict=True)
            if type(value) is int and not -MAX_INT64 - 1 <= value <= MAX_INT64:
                raise ValueError
        except ValueError:
            raise InvalidInputError(
                f"search attribute {name!r} = {value!r} is none of: a str, an int of 64 "
                "bits, a finite float, a bool, a list of str"
            ) from None
    return dict(attributes)


class WorkflowInfo(BaseModel):
    """What ``describe()`` and ``list()`` report about a workflow (its current run)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow_id: str
    run_id: str
    workflow_type: str
    status: WorkflowStatus
    started_at: UtcDatetime
    closed_at: UtcDatetime | None = None
    search_attributes: dict[str, SearchAttributeValue] = Field(default_factory=dict)
    parent_workflow_id: str | None = None
    residency: str | None = None

    def _repr_html_(self) -> str:
        """Jupyter's view: a table of the fields, every value escaped (ids are user data)."""
        rows = "".join(
            f"<tr><th style='text-align:left'>{key}</th><td style='text-align:left'>"
            f"{html.escape(str(value))}</td></tr>"
            for key, value in self.model_dump().items()
        )
        return f"<table>{rows}</table>"


class WorkflowFilter(BaseModel):
    """Which workflows to list; all given conditions must hold. Ordered by (started_at, id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow_type: str | None = None
    status: tuple[WorkflowStatus, ...] | None = None
    started_after: UtcDatetime | None = None
    started_before: UtcDatetime | None = None
    closed_after: UtcDatetime | None = None
    closed_before: UtcDatetime | None = None
    search_attributes: dict[str, SearchAttributeValue] = Field(default_factory=dict)
    limit: int | None = Field(default=None, ge=0)
    offset: int = Field(default=0, ge=0)


def apply_event(info: WorkflowInfo | None, event: Event) -> WorkflowInfo | None:
    """Fold one event into the visibility record of its workflow."""
    if type(event) is WorkflowStarted:
        attributes = {
            **(info.search_attributes if info is not None else {}),
            **(event.search_attributes or {}),
        }
        parent = event.parent.workflow_id if event.parent else None
        return WorkflowInfo(
            workflow_id=event.workflow_id,
            run_id=event.run_id,
            workflow_type=event.workflow_type,
            status=WorkflowStatus.RUNNING,
            started_at=event.recorded_at,
            search_attributes=attributes,
            parent_workflow_id=parent,
        )
    if info is None or type(event) not in VISIBLE_EVENTS:
        return info
    update: dict[str, Any] = {}
    status = STATUS_OF_EVENT.get(type(event))
    if status is not None:
        update["status"] = status
    if isinstance(event, TERMINAL_EVENTS):
        update["closed_at"] = event.recorded_at
    elif isinstance(event, WorkflowReopened):
        update["closed_at"] = None
    elif isinstance(event, SearchAttributesUpdated):
        update["search_attributes"] = {**info.search_attributes, **event.attributes}
    return info.model_copy(update=update) if update else info


VISIBLE_EVENTS = frozenset({*STATUS_OF_EVENT, SearchAttributesUpdated})
"""The event types that change a workflow's visibility record; ``apply_event`` ignores the rest."""


def project_info(events: Iterable[Event]) -> WorkflowInfo | None:
    """The visibility record of a whole history (None if it never started)."""
    info: WorkflowInfo | None = None
    for event in events:
        info = apply_event(info, event)
    return info


def matches(info: WorkflowInfo, flt: WorkflowFilter) -> bool:
    """Whether ``info`` satisfies every condition of ``flt`` (the reference semantics)."""
    checks = (
        flt.workflow_type is None or info.workflow_type == flt.workflow_type,
        flt.status is None or info.status in flt.status,
        flt.started_after is None or info.started_at >= flt.started_after,
        flt.started_before is None or info.started_at <= flt.started_before,
        flt.closed_after is None
        or (info.closed_at is not None and info.closed_at >= flt.closed_after),
        flt.closed_before is None
        or (info.closed_at is not None and info.closed_at <= flt.closed_before),
        _attributes_match(info.search_attributes, flt.search_attributes),
    )
    return all(checks)


def _attributes_match(
    have: Mapping[str, SearchAttributeValue], want: Mapping[str, SearchAttributeValue]
) -> bool:
    for key, expected in want.items():
        actual = have.get(key)
        if isinstance(actual, list) and not isinstance(expected, list):
            if not any(_same_value(item, expected) for item in actual):
                return False
        elif not _same_value(actual, expected):
            return False
    return True


def _same_value(actual: object, expected: object) -> bool:
    # Booleans only equal booleans: True must not match a stored 1.
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected
    return actual == expected
