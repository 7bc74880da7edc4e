"""History: a workflow's events, still a list, that shows itself as a table and converts to
Arrow and pandas."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from aion_ray.display import frames
from aion_ray.display.details import event_detail
from aion_ray.display.html import Safe, abbreviate, escape, gap_row, head_and_tail, span, table
from aion_ray.display.picture import TimelinePicture
from aion_ray.model import events as ev
from aion_ray.model.store import LifecycleEntry

MAX_ROWS = 60
"""Rows an HTML table shows at most (the first and last half); a count stands for the rest."""


class History(list[ev.Event]):
    """The events of one workflow (every run), oldest first.

    A plain list in every way that matters to code; in a notebook it renders as a table of
    seq, offset from the first event, event type and detail, long ones cut to their first and
    last ``MAX_ROWS // 2`` events. ``lifecycle`` holds the operational log (placements,
    suspensions) the timeline shades; it is not part of the list.
    """

    def __init__(
        self, events: Iterable[ev.Event] = (), lifecycle: Sequence[LifecycleEntry] = ()
    ) -> None:
        super().__init__(events)
        self.lifecycle: tuple[LifecycleEntry, ...] = tuple(lifecycle)

    @property
    def workflow_id(self) -> str | None:
        return self[0].workflow_id if self else None

    @property
    def origin(self) -> datetime | None:
        """When the first event was recorded: offsets count from here."""
        return self[0].recorded_at if self else None

    def rows(self) -> list[tuple[int, timedelta, str, str]]:
        """(seq, offset, type, detail) per event; details are complete."""
        if not self:
            return []
        origin = self[0].recorded_at
        return [(e.seq, e.recorded_at - origin, e.type, event_detail(e)) for e in self]

    def to_arrow(self) -> Any:
        """A pyarrow Table: the SQL ``events`` columns plus ``offset_s`` and ``detail``."""
        return frames.events_table(self)

    def to_pandas(self) -> Any:
        """A pandas DataFrame of ``to_arrow()`` (needs pandas: ``aion-ray[notebook]``)."""
        return frames.to_pandas(self.to_arrow())

    def timeline(self, now: datetime | None = None) -> TimelinePicture:
        """The picture of this history (see TimelinePicture); ``now`` ends open bars."""
        return TimelinePicture.of(self, self.lifecycle, now=now)

    def _repr_html_(self) -> str:
        return history_html(self)

    def __repr__(self) -> str:
        if not self:
            return "History([])"
        return (
            f"History({self.workflow_id!r}: {len(self)} events, seq {self[0].seq}..{self[-1].seq})"
        )

    def __str__(self) -> str:
        lines = [
            f"{seq:>5}  +{span(offset):>10}  {kind:<24} {abbreviate(detail, 80)}"
            for seq, offset, kind, detail in self.rows()
        ]
        return "\n".join(lines) if lines else "(empty history)"


def history_html(history: Sequence[ev.Event], limit: int = MAX_ROWS) -> Safe:
    """The history as a bounded table: the first and last ``limit // 2`` events at most."""
    if not history:
        return Safe("<i>empty history</i>")
    origin = history[0].recorded_at
    head, tail = head_and_tail(len(history), limit)
    rows: list[list[object]] = [_row(history[i], origin) for i in head]
    if len(tail):
        rows.append(gap_row(4, len(history) - limit, "events"))
        rows += [_row(history[i], origin) for i in tail]
    caption = f"{history[0].workflow_id}: {len(history):,} events"
    return table(("seq", "offset", "event", "detail"), rows, caption)


def _row(event: ev.Event, origin: datetime) -> list[object]:
    detail = escape(abbreviate(event_detail(event)))
    return [event.seq, "+" + span(event.recorded_at - origin), event.type, detail]
