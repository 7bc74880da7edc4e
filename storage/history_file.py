"""A store file, or a Parquet export of one, read with no engine running: SQL over the public
schema, the workflows, and a workflow's events and lifecycle log.

The file is opened read-only; DuckDB refuses that while an engine's store actor holds it
(one process owns a store file), and the error says what to do instead. A file left by a
crash may lack the newest visibility rows (the engine rebuilds them when it next opens it);
events are always complete.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from aion_ray.errors import InvalidInputError, StoreError
from aion_ray.model.events import Event
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.ids import validate_workflow_id
from aion_ray.model.rows import events_from_rows
from aion_ray.model.store import LifecycleEntry
from aion_ray.model.visibility import WorkflowInfo
from aion_ray.storage.sql_guard import CONNECTION_SETTINGS
from aion_ray.storage.sql_run import run_read_only
from aion_ray.storage.visibility_rows import info_from_row

SNAPSHOTS = ("workflows", "lifecycle", "timers")
_EVENTS = (
    "SELECT seq, type, run_id, epoch_us(recorded_at), data FROM events "
    "WHERE workflow_id = ? ORDER BY seq"
)
_LIFECYCLE = (
    "SELECT run_id, recorded_at, kind, detail FROM lifecycle "
    "WHERE workflow_id = ? ORDER BY recorded_at"
)
_WORKFLOWS = (
    "SELECT workflow_id, run_id, workflow_type, status, started_at, closed_at, "
    "CAST(search_attributes AS VARCHAR), parent_workflow_id FROM workflows"
)


class HistoryFile:
    """Read-only access to ``path``: a ``.duckdb`` store file or an export directory."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            self._con = _export_views(self.path)
        elif self.path.is_file():
            self._con = _open_read_only(self.path)
        else:
            raise InvalidInputError(f"no store file or Parquet export at {str(path)!r}")

    def sql(self, query: str) -> pa.Table:
        """One read-only query (anything else is refused before it runs)."""
        return run_read_only(self._con, query)

    def infos(
        self, status: WorkflowStatus | None = None, workflow_type: str | None = None
    ) -> list[WorkflowInfo]:
        """The workflows matching both conditions given, oldest first."""
        query, params = _WORKFLOWS + " WHERE true", list[str]()
        if status is not None:
            query, params = query + " AND status = ?", [*params, status.value]
        if workflow_type is not None:
            query, params = query + " AND workflow_type = ?", [*params, workflow_type]
        rows = self._con.execute(query + " ORDER BY started_at, workflow_id", params).fetchall()
        return [info_from_row(*row) for row in rows]

    def events(self, workflow_id: str) -> list[Event]:
        """Every event of ``workflow_id`` (empty if the file has none)."""
        wid = validate_workflow_id(workflow_id)
        return events_from_rows(wid, self._con.execute(_EVENTS, [wid]).fetchall())

    def lifecycle(self, workflow_id: str) -> list[LifecycleEntry]:
        wid = validate_workflow_id(workflow_id)
        rows = self._con.execute(_LIFECYCLE, [wid]).fetchall()
        return [
            LifecycleEntry(workflow_id=wid, run_id=r, recorded_at=at, kind=k, detail=_dict(d))
            for r, at, k, d in rows
        ]

    def close(self) -> None:
        self._con.close()


def _open_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=True, config=CONNECTION_SETTINGS)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise StoreError(f"cannot open {path} read-only: {exc}") from exc
        raise StoreError(
            f"{path} is held by a running engine, which owns it while it runs: ask through "
            "it (aion.connect(store_path=...), then client.sql(...), client.list(), "
            "handle.history()), or open a Parquet export of it (export_parquet) instead"
        ) from exc


def _export_views(directory: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory database whose tables are views over the export's Parquet files."""
    missing = [name for name in SNAPSHOTS if not (directory / f"{name}.parquet").is_file()]
    events = sorted(directory.glob("events-*.parquet"))
    if missing or not events:
        raise InvalidInputError(
            f"{directory} is not a Parquet export of a store (it lacks "
            f"{', '.join(missing or ['events-*.parquet'])})"
        )
    con = duckdb.connect()
    # The views read the export's files; a query reads nothing else (CONNECTION_SETTINGS).
    con.execute(f"SET allowed_directories = [{_quoted(str(directory.resolve()))}]")
    for setting, value in CONNECTION_SETTINGS.items():
        con.execute(f"SET {setting} = {value}")
    files = ", ".join(_quoted(str(path.resolve())) for path in events)
    con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet([{files}])")
    for name in SNAPSHOTS:
        path = _quoted(str((directory / f"{name}.parquet").resolve()))
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({path})")
    return con


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _dict(text: Any) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(text) if isinstance(text, str) else dict(text or {})
    return value
