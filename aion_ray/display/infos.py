"""Workflows at a glance: one WorkflowInfo as a card, many as a table, a handle as its info
with its last events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from aion_ray.display.details import event_detail
from aion_ray.display.html import (
    Safe,
    abbreviate,
    badge,
    escape,
    gap_row,
    head_and_tail,
    span,
    stamp,
    table,
)
from aion_ray.model import events as ev
from aion_ray.model.visibility import WorkflowInfo

MAX_ROWS = 60
LAST_EVENTS = 5
"""How many of its latest events a handle's card shows."""
COLUMNS = ("workflow id", "type", "status", "residency", "started", "closed", "duration")


class WorkflowList(list[WorkflowInfo]):
    """What ``list()`` returns: a plain list of WorkflowInfo that renders as a table."""

    def __init__(self, infos: Iterable[WorkflowInfo] = ()) -> None:
        super().__init__(infos)

    def _repr_html_(self) -> str:
        return infos_html(self)

    def __repr__(self) -> str:
        counts: dict[str, int] = {}
        for info in self:
            counts[str(info.status)] = counts.get(str(info.status), 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        return f"WorkflowList({len(self)} workflows{': ' + summary if summary else ''})"


def duration(info: WorkflowInfo, now: datetime | None = None) -> str:
    """How long the current run has taken (so far, while it is open)."""
    end = info.closed_at or now or datetime.now(UTC)
    return span(end - info.started_at)


def infos_html(infos: Sequence[WorkflowInfo], limit: int = MAX_ROWS) -> Safe:
    """The workflows as a table, at most ``limit`` rows (first and last halves)."""
    if not infos:
        return Safe("<i>no workflows</i>")
    head, tail = head_and_tail(len(infos), limit)
    rows: list[list[object]] = [_row(infos[i]) for i in head]
    if len(tail):
        rows.append(gap_row(len(COLUMNS), len(infos) - limit, "workflows"))
        rows += [_row(infos[i]) for i in tail]
    return table(COLUMNS, rows, f"{len(infos):,} workflows")


def _row(info: WorkflowInfo) -> list[object]:
    return [
        info.workflow_id,
        info.workflow_type,
        badge(info.status),
        info.residency or "",
        stamp(info.started_at),
        stamp(info.closed_at),
        duration(info),
    ]


def info_html(info: WorkflowInfo, last_events: Sequence[ev.Event] = ()) -> Safe:
    """One workflow as a card: its facts, then (for a handle) its latest events."""
    facts: list[tuple[str, object]] = [
        ("workflow id", info.workflow_id),
        ("type", info.workflow_type),
        ("status", badge(info.status)),
        ("residency", info.residency or "unknown"),
        ("run", info.run_id),
        ("started", stamp(info.started_at)),
        ("closed", stamp(info.closed_at) or "still open"),
        ("duration", duration(info)),
    ]
    if info.parent_workflow_id:
        facts.append(("parent", info.parent_workflow_id))
    if info.search_attributes:
        facts.append(("search attributes", abbreviate(str(info.search_attributes))))
    cell = "<tr><th style='text-align:left'>{}</th><td style='text-align:left'>{}</td></tr>"
    body = "".join(cell.format(escape(k), escape(v)) for k, v in facts)
    card = f"<table class='aion-info'>{body}</table>"
    if not last_events:
        return Safe(card)
    rows = [(e.seq, e.type, abbreviate(event_detail(e))) for e in last_events[-LAST_EVENTS:]]
    return Safe(card + table(("seq", "event", "detail"), rows, "latest events"))


def handle_text(workflow_id: str, run_id: str | None, workflow_type: str | None) -> str:
    """A handle's plain repr: what it knows without asking the engine."""
    parts = [repr(workflow_id)]
    if workflow_type:
        parts.append(f"type={workflow_type!r}")
    if run_id:
        parts.append(f"run={run_id!r}")
    return ", ".join(parts)


def failure_html(workflow_id: str, error: Exception) -> Safe:
    """What a handle shows when the engine could not be asked about it."""
    return Safe(
        f"<div class='aion-info'><b>{escape(workflow_id)}</b>: "
        f"<i>{escape(type(error).__name__)}: {escape(abbreviate(str(error)))}</i></div>"
    )
