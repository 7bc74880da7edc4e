"""Commands over one workflow's history: ``show`` (its events; ``--follow`` streams new ones
until the workflow ends) and ``timeline`` (as text; ``--svg`` writes the picture)."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from aion_ray.cli.connection import Target, live_client, open_source
from aion_ray.cli.errors import CliError
from aion_ray.cli.output import Column, Output, output_options
from aion_ray.display.details import event_detail
from aion_ray.display.history import History
from aion_ray.display.picture import TimelinePicture
from aion_ray.display.timeline import Timeline, build_timeline
from aion_ray.model import events as ev
from aion_ray.model.history import current_terminal

FOLLOW_POLL = 0.5
"""Seconds between two reads of a followed history."""
EVENT_COLUMNS = (
    Column("seq", "seq"),
    Column("time", "time"),
    Column("type", "event", whole=True),
    Column("detail", "detail"),
)
CSV_EVENT_COLUMNS = (
    Column("seq", "seq"),
    Column("recorded_at", "recorded_at"),
    Column("type", "type"),
    Column("run_id", "run_id"),
    Column("detail", "detail"),
)
TIMELINE_COLUMNS = (
    Column("lane", "lane", whole=True),
    Column("start", "start"),
    Column("end", "end"),
    Column("what", "what", whole=True),
    Column("bar", "", whole=True),
)
BAR_WIDTH = 40
"""Characters the text timeline's bars span, from the first event to the last moment."""


def event_rows(events: Sequence[ev.Event], origin: datetime, out: Output) -> list[dict[str, Any]]:
    """The events as ``out`` prints them: a table row (seq, time, event, detail) each, or
    the event's JSON document (the ``load_history`` format, so ``replay --json`` reads it)."""
    if out.format in ("json", "jsonl"):
        return [event.model_dump(mode="json") for event in events]
    rows = []
    for event in events:
        moment: datetime | timedelta = event.recorded_at
        if out.time_format == "relative":
            moment = event.recorded_at - origin
        rows.append(
            {
                "seq": event.seq,
                "time": moment,
                "recorded_at": event.recorded_at,
                "type": event.type,
                "run_id": event.run_id,
                "detail": event_detail(event),
            }
        )
    return rows


@click.command()
@click.argument("workflow_id")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events until it ends.")
@output_options
@click.pass_obj
def show(
    target: Target, workflow_id: str, follow: bool, output_format: str, time_format: str
) -> None:
    """Show the workflow's history as a table of events (all its runs)."""
    out = Output(output_format, time_format)
    if follow and output_format == "json":
        raise CliError("--follow streams: use -o jsonl (or table, csv) instead of -o json")
    columns = CSV_EVENT_COLUMNS if output_format == "csv" else EVENT_COLUMNS
    if not follow:
        history = open_source(target).history(workflow_id)
        out.records(event_rows(history, history[0].recorded_at, out), columns)
        return
    _follow(target, workflow_id, out, columns)


def _follow(target: Target, workflow_id: str, out: Output, columns: Sequence[Column]) -> None:
    handle = live_client(target).get(workflow_id)
    seen = list(handle.history())
    out.records(event_rows(seen, seen[0].recorded_at, out), columns)
    while current_terminal(seen) is None:
        sys.stdout.flush()
        time.sleep(FOLLOW_POLL)  # a polling interval: the store has no push to wait on
        new = handle.history()[len(seen) :]
        if new:
            out.records(event_rows(new, seen[0].recorded_at, out), columns, header=False)
            seen += new


@click.command()
@click.argument("workflow_id")
@click.option("--svg", "svg_path", type=click.Path(dir_okay=False), help="Write the picture.")
@output_options
@click.pass_obj
def timeline(
    target: Target, workflow_id: str, svg_path: str | None, output_format: str, time_format: str
) -> None:
    """Show the workflow's timeline as text: a lane per activity, timer, child and signal,
    a row per attempt, wait or mark, with its start and end from the first event."""
    history = open_source(target).history(workflow_id)
    now = datetime.now(UTC) if current_terminal(history) is None else None
    model = build_timeline(history, history.lifecycle, now)
    if svg_path is not None:
        _save_svg(history, now, svg_path)
    Output(output_format, time_format).records(
        timeline_rows(model, output_format), TIMELINE_COLUMNS
    )


def timeline_rows(model: Timeline, output_format: str) -> list[dict[str, Any]]:
    """A row per bar, marker and suspended period, by start; offsets are seconds in JSON
    and durations (with a drawn bar) in a table."""
    found: list[tuple[float, str, float | None, str]] = [
        (bar.start, model.lanes[bar.lane], bar.end, bar.outcome) for bar in model.bars
    ]
    found += [(m.at, model.lanes[m.lane], None, m.label) for m in model.markers]
    found += [(start, "(suspended)", end, "suspended") for start, end in model.shaded]
    rows = []
    for start, lane, end, what in sorted(found, key=lambda row: row[0]):
        row: dict[str, Any] = {"lane": lane, "start": start, "end": end, "what": what}
        if output_format == "table":
            row.update(
                start=timedelta(seconds=start),
                end=None if end is None else timedelta(seconds=end),
                bar=_bar(start, end, model.end),
            )
        rows.append(row)
    return rows


def _bar(start: float, end: float | None, total: float) -> str:
    scale = BAR_WIDTH / total if total > 0 else 0.0
    first = min(BAR_WIDTH - 1, int(start * scale))
    if end is None:
        return " " * first + "|"
    last = max(first + 1, min(BAR_WIDTH, round(end * scale)))
    return " " * first + "#" * (last - first)


def _save_svg(history: History, now: datetime | None, path: str) -> None:
    try:
        TimelinePicture.of(history, history.lifecycle, now=now, format="svg").save(Path(path))
    except ImportError:
        raise CliError("--svg needs matplotlib: pip install 'aion-ray[notebook]'") from None
