"""Event <-> row: the single place events are turned into table rows and back.

A row is ``(workflow_id, run_id, seq, type, recorded_at, data)`` where ``data`` is the event's
JSON without its envelope (fields that are None are left out; they decode to their defaults).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aion_ray.model.events import ENVELOPE_FIELDS, EVENT_LIST_ADAPTER, Event

_ENVELOPE = set(ENVELOPE_FIELDS)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def event_data(event: Event) -> str:
    """The ``data`` column: the event's own fields as JSON."""
    # The model's serializer directly: model_dump_json adds ~1.5 us per event of call overhead.
    serializer = type(event).__pydantic_serializer__
    return serializer.to_json(event, exclude=_ENVELOPE, exclude_none=True).decode()


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
            [(e.recorded_at - _EPOCH) // _MICROSECOND for e in events],
            [event_data(e) for e in events],
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


StoredRow = tuple[int, str, str, int, str]
"""An events row as the store reads it back: ``(seq, type, run_id, recorded_at_us, data)``."""


def events_from_rows(workflow_id: str, rows: Iterable[StoredRow]) -> list[Event]:
    """Rebuild ``workflow_id``'s events from its rows, in the order given.

    One validation call for the whole batch costs about a third less than one per row.
    Raises pydantic's ValidationError (naming the row's index) if a row is corrupt.
    """
    owner = _quoted(workflow_id)
    items = []
    for seq, type_, run_id, recorded_at_us, data in rows:
        body = data[1:].lstrip()
        at = datetime_from_epoch_us(recorded_at_us).isoformat()
        items.append(
            f'{{"type":{_quoted(type_)},"workflow_id":{owner},"run_id":{_quoted(run_id)},'
            f'"seq":{seq},"recorded_at":"{at}"{"" if body.startswith("}") else ","}{body}'
        )
    return EVENT_LIST_ADAPTER.validate_json("[" + ",".join(items) + "]")


@functools.lru_cache(maxsize=4096)
def _quoted(text: str) -> str:
    """``text`` as a JSON string; cached because a history repeats its type and run names."""
    return json.dumps(text)


def datetime_from_epoch_us(micros: int) -> datetime:
    """An aware UTC datetime from microseconds since the epoch (exact, no float rounding)."""
    return _EPOCH + timedelta(microseconds=micros)
