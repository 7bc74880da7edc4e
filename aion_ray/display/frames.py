"""Histories as data frames. pyarrow (a dependency of the engine, owned by its storage layer)
and pandas (optional) are imported only here and only when a conversion is asked for, so the
core stays free of them until then."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aion_ray.display.details import event_detail
from aion_ray.model import events as ev

COLUMNS = ("workflow_id", "run_id", "seq", "type", "recorded_at", "offset_s", "detail", "data")
"""The SQL ``events`` table's columns, plus the offset from the first event and the detail."""


def events_table(events: Sequence[ev.Event]) -> Any:
    """A pyarrow Table with one row per event; ``data`` is its JSON without the envelope,
    as in the SQL ``events`` table."""
    import pyarrow as pa  # noqa: PLC0415, TID251 - a conversion's own dependency

    origin = events[0].recorded_at if events else None
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for event in events:
        columns["workflow_id"].append(event.workflow_id)
        columns["run_id"].append(event.run_id)
        columns["seq"].append(event.seq)
        columns["type"].append(event.type)
        columns["recorded_at"].append(event.recorded_at)
        columns["offset_s"].append((event.recorded_at - origin).total_seconds() if origin else 0)
        columns["detail"].append(event_detail(event))
        columns["data"].append(event.model_dump_json(exclude=set(ev.ENVELOPE_FIELDS)))
    schema = pa.schema(
        [
            ("workflow_id", pa.string()),
            ("run_id", pa.string()),
            ("seq", pa.int64()),
            ("type", pa.string()),
            ("recorded_at", pa.timestamp("us", tz="UTC")),
            ("offset_s", pa.float64()),
            ("detail", pa.string()),
            ("data", pa.string()),
        ]
    )
    return pa.table(columns, schema=schema)


def to_pandas(table: Any) -> Any:
    """``table`` as a pandas DataFrame; ImportError naming the extra if pandas is missing."""
    try:
        import pandas  # noqa: F401, PLC0415 - optional: checked before pyarrow needs it
    except ImportError as exc:
        raise ImportError(
            "to_pandas needs pandas: pip install 'aion-ray[notebook]' (or pandas)"
        ) from exc
    return table.to_pandas()
