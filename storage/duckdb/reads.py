"""The DuckDB store's reads over its derived tables and logs: due timers, the lifecycle log
and new events for a Parquet export."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from aion_ray.storage import export
from aion_ray.storage.codec import datetime_from_epoch_us
from aion_ray.storage.contract import DueTimer, LifecycleEntry
from aion_ray.storage.duckdb.db import exported_commit
from aion_ray.storage.schema import SNAPSHOT_SCHEMAS

_DUE_TIMERS = (
    "SELECT workflow_id, run_id, timer_id, epoch_us(fire_at) FROM timers "
    "WHERE fire_at <= ? ORDER BY fire_at, workflow_id, timer_id LIMIT ?"
)
_LIFECYCLE = (
    "SELECT workflow_id, run_id, recorded_at, kind, detail FROM lifecycle "
    "WHERE workflow_id = ? ORDER BY recorded_at"
)


def due_timers(cursor: duckdb.DuckDBPyConnection, as_of: datetime, limit: int) -> list[DueTimer]:
    rows = cursor.execute(_DUE_TIMERS, [as_of, limit]).fetchall()
    return [
        DueTimer(workflow_id=w, run_id=r, timer_id=t, fire_at=datetime_from_epoch_us(f))
        for w, r, t, f in rows
    ]


def read_lifecycle(cursor: duckdb.DuckDBPyConnection, workflow_id: str) -> list[LifecycleEntry]:
    rows = cursor.execute(_LIFECYCLE, [workflow_id]).fetchall()
    return [
        LifecycleEntry(workflow_id=w, run_id=r, recorded_at=at, kind=k, detail=_json(d))
        for w, r, at, k, d in rows
    ]


def export_until(
    cursor: duckdb.DuckDBPyConnection, until: int, target: Path
) -> tuple[list[str], int]:
    """Write the events of commits after the exported watermark up to ``until``, and the
    snapshot tables, into ``target``; return the file names and how many events."""
    since = exported_commit(cursor)
    reader = cursor.sql(
        "SELECT * FROM events WHERE commit_id > $since AND commit_id <= $until "
        "ORDER BY commit_id, workflow_id, seq",
        params={"since": since, "until": until},
    ).to_arrow_reader(65536)
    name, rows = export.write_events(reader, target)
    snapshots = {
        table: cursor.sql(f"SELECT * FROM {table}").to_arrow_table() for table in SNAPSHOT_SCHEMAS
    }
    return ([name] if name else []) + export.write_snapshots(snapshots, target), rows


def _json(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text)
    return value
