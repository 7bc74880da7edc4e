"""Event <-> row: the single place events are turned into table rows and back.

A row is ``(workflow_id, run_id, seq, type, recorded_at, data)`` where ``data`` is the event's
JSON without its envelope (fields that are None are left out; they decode to their defaults).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from aion_ray.events import ENVELOPE_FIELDS, EVENT_ADAPTER, EVENT_TYPES, Event

EventRow = tuple[str, str, int, str, datetime, str]
_ENVELOPE = set(ENVELOPE_FIELDS)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def event_data(event: Event) -> str:
    """The ``data`` column: the event's own fields as JSON."""
    # The model's serializer directly: model_dump_json adds ~1.5 us per event of call overhead.
    serializer = type(event).__pydantic_serializer__
    return serializer.to_json(event, exclude=_ENVELOPE, exclude_none=True).decode()


def event_row(event: Event) -> EventRow:
    return (
        event.workflow_id,
        event.run_id,
        event.seq,
        event.type,
        event.recorded_at,
        event_data(event),
    )


def event_from_row(
    workflow_id: str, run_id: str, seq: int, type_: str, recorded_at: datetime, data: str
) -> Event:
    """Rebuild an event from its row; raises pydantic's ValidationError if the row is corrupt."""
    body = data[1:].lstrip()
    separator = "" if body.startswith("}") else ","
    envelope = (
        f'{{"type":{json.dumps(type_)},"workflow_id":{json.dumps(workflow_id)},'
        f'"run_id":{json.dumps(run_id)},"seq":{seq},"recorded_at":"{recorded_at.isoformat()}"'
    )
    text = envelope + separator + body
    cls = EVENT_TYPES.get(type_)
    if cls is None:  # the union's error names the unknown tag
        return EVENT_ADAPTER.validate_json(text)
    # The row's own class validates ~25% faster than the discriminated union.
    event: Event = cls.model_validate_json(text)  # type: ignore[assignment]
    return event


def datetime_from_epoch_us(micros: int) -> datetime:
    """An aware UTC datetime from microseconds since the epoch (exact, no float rounding)."""
    return _EPOCH + timedelta(microseconds=micros)
