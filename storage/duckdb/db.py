"""Small DuckDB helpers shared by the store's modules."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import duckdb

from aion_ray.model.events import Event
from aion_ray.storage.codec import events_from_rows


def first_row(
    con: duckdb.DuckDBPyConnection, query: str, params: Sequence[Any] = ()
) -> tuple[Any, ...] | None:
    """The first row of ``query`` or None; the result is always consumed to its end, as
    DuckDB requires before the connection runs anything else."""
    rows = con.execute(query, list(params)).fetchall()
    return rows[0] if rows else None


READ_HISTORY = (
    "SELECT seq, type, run_id, epoch_us(recorded_at), data FROM events "
    "WHERE workflow_id = ? AND seq >= ?"
)


def read_stored_events(
    con: duckdb.DuckDBPyConnection, workflow_id: str, from_seq: int = 1
) -> list[Event]:
    """The events of ``workflow_id`` stored in the database from ``from_seq`` on, in order."""
    rows = con.execute(READ_HISTORY, [workflow_id, from_seq]).fetchall()
    rows.sort(key=lambda row: row[0])  # cheaper here than an ORDER BY in the index scan
    return events_from_rows(workflow_id, rows)


def exported_commit(cursor: duckdb.DuckDBPyConnection) -> int:
    row = first_row(cursor, "SELECT value FROM aion_meta WHERE key = 'exported_commit'")
    return int(row[0]) if row else 0


def set_exported_commit(con: duckdb.DuckDBPyConnection, commit_id: int) -> None:
    con.execute("INSERT OR REPLACE INTO aion_meta VALUES ('exported_commit', ?)", [str(commit_id)])


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run the block in one transaction: committed if it returns, rolled back if it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except Exception:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
