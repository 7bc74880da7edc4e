"""The events table's columns as a group commit accumulates them, built from events or from
rows a caller encoded (the row encoding itself lives in ``aion_ray.model.rows``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aion_ray.model.events import Event
from aion_ray.model.rows import (
    StoredRow,
    datetime_from_epoch_us,
    epoch_us,
    event_data,
    events_from_rows,
)

__all__ = ["EventColumns", "StoredRow", "datetime_from_epoch_us", "event_data", "events_from_rows"]


@dataclass(frozen=True, slots=True)
class EventColumns:
    """Rows of the events table, column by column (``recorded_at`` as microseconds since the
    epoch, which Arrow takes as is): the form a group commit writes in bulk."""

    workflow_id: list[str] = field(default_factory=list)
    run_id: list[str] = field(default_factory=list)
    seq: list[int] = field(default_factory=list)
    type: list[str] = field(default_factory=list)
    recorded_at_us: list[int] = field(default_factory=list)
    data: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, events: Sequence[Event]) -> EventColumns:
        """Encode ``events`` (the ``data`` JSON is the costly part)."""
        return cls(
            [e.workflow_id for e in events],
            [e.run_id for e in events],
            [e.seq for e in events],
            [e.type for e in events],
            [epoch_us(e.recorded_at) for e in events],
            [event_data(e) for e in events],
        )

    @classmethod
    def of_rows(cls, workflow_id: str, rows: Sequence[StoredRow]) -> EventColumns:
        """Columns from rows a caller encoded (see ``EncodedEvents``), written as they came."""
        return cls(
            [workflow_id] * len(rows),
            [row[2] for row in rows],
            [row[0] for row in rows],
            [row[1] for row in rows],
            [row[3] for row in rows],
            [row[4] for row in rows],
        )

    def extend(self, other: EventColumns) -> None:
        for mine, theirs in zip(self.lists(), other.lists(), strict=True):
            mine.extend(theirs)

    def rows(self, commit_id: int) -> list[tuple[Any, ...]]:
        """The rows as tuples in table order, for an appender (which needs datetimes)."""
        times = [datetime_from_epoch_us(us) for us in self.recorded_at_us]
        columns = (self.workflow_id, self.run_id, self.seq, self.type, times, self.data)
        return [(*row, commit_id) for row in zip(*columns, strict=True)]

    def lists(self) -> tuple[list[Any], ...]:
        return (self.workflow_id, self.run_id, self.seq, self.type, self.recorded_at_us, self.data)

    def __len__(self) -> int:
        return len(self.seq)
