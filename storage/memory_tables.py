"""The in-memory store's tables as Arrow, and read-only SQL over them (an in-process DuckDB
sees them as the public schema)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from aion_ray.model.events import Event
from aion_ray.storage.codec import event_data
from aion_ray.storage.contract import LifecycleEntry, SqlLimits
from aion_ray.storage.schema import EVENTS_ARROW


def events_table(log: Sequence[tuple[int, Event]]) -> pa.Table:
    """(commit id, event) pairs as the ``events`` table."""
    columns: dict[str, list[Any]] = {name: [] for name in EVENTS_ARROW.names}
    for commit_id, event in log:
        columns["workflow_id"].append(event.workflow_id)
        columns["run_id"].append(event.run_id)
        columns["seq"].append(event.seq)
        columns["type"].append(event.type)
        columns["recorded_at"].append(event.recorded_at)
        columns["data"].append(event_data(event))
        columns["commit_id"].append(commit_id)
    return pa.Table.from_pydict(columns, EVENTS_ARROW)


def lifecycle_row(entry: LifecycleEntry) -> dict[str, Any]:
    return {**entry.model_dump(), "detail": json.dumps(entry.detail)}


def run_sql(tables: dict[str, pa.Table], query: str, limits: SqlLimits | None) -> pa.Table:
    """Run one read-only query over ``tables`` (name -> Arrow table) as views, within
    ``limits``."""
    import duckdb  # noqa: PLC0415 - only SQL needs it: the in-memory store stays light

    from aion_ray.storage.sql_guard import CONNECTION_SETTINGS  # noqa: PLC0415
    from aion_ray.storage.sql_run import run_read_only  # noqa: PLC0415

    con = duckdb.connect(config={**CONNECTION_SETTINGS, "threads": "1"})
    try:
        for name, table in tables.items():
            con.register(f"_{name}", table)
            con.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM _{name}")
        return run_read_only(con, query, limits)
    finally:
        con.close()
