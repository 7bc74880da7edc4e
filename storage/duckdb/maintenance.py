"""Opening a store file (schema, settings, version check, visibility catch-up) and rebuilding
derived tables."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterator
from typing import Any

import duckdb
import pyarrow as pa

from aion_ray.errors import StoreError
from aion_ray.model.events import Event
from aion_ray.storage.codec import events_from_rows
from aion_ray.storage.duckdb.db import first_row, read_stored_events, transaction
from aion_ray.storage.duckdb.identity import check_present, stamped_id
from aion_ray.storage.duckdb.migrations import migrate, stored_version
from aion_ray.storage.duckdb.trail import VISIBILITY_COMMIT, stored_visibility_commit
from aion_ray.storage.schema import DDL, TIMERS_ARROW, WORKFLOWS_ARROW
from aion_ray.storage.sql_guard import CONNECTION_SETTINGS
from aion_ray.storage.timer_index import derived_from_history
from aion_ray.storage.visibility_rows import workflow_row

_SETTINGS = {
    # The writer thread checkpoints between group commits instead (see GroupCommitter).
    "checkpoint_threshold": "1TB",
    # The store never needs extensions beyond the built-in JSON and Parquet support.
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
}
DEFAULT_THREADS = 1
"""DuckDB threads. One is the default: the store's work is many tiny statements, for which
DuckDB's task scheduling across threads costs more than it saves (see benchmarks/)."""
DEFAULT_MEMORY_LIMIT = "25%"
"""The memory DuckDB may use, of the machine's (its own default is 80%): a heavy user query
spills to ``<path>.tmp`` past it, or fails, instead of taking the store process down."""


def open_database(
    path: str,
    threads: int = DEFAULT_THREADS,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    store_id: str | None = None,
) -> tuple[duckdb.DuckDBPyConnection, int]:
    """Open (creating if needed, migrating if older) a store file; return the connection
    and last commit id. The connection reads no other file and its settings are locked
    (``CONNECTION_SETTINGS``): its cursors run user SQL. With ``store_id`` named, the file
    must exist and be that store (``identity``); a file that cannot be opened is a
    StoreError naming the path and the cause."""
    config = {**_SETTINGS, "threads": str(threads), "memory_limit": memory_limit}
    check_present(path, store_id)
    try:
        con = duckdb.connect(path, config={**config, **CONNECTION_SETTINGS})
    except duckdb.Error as exc:
        raise StoreError(f"cannot open history store {path!r}: {exc}") from exc
    try:
        for statement in DDL:
            con.execute(statement)
    except duckdb.Error as exc:  # e.g. a read-only file: its tables cannot be made
        con.close()
        raise StoreError(f"cannot open history store {path!r}: {exc}") from exc
    version = stored_version(con, path)
    stamped_id(con, path, store_id)
    row = first_row(con, "SELECT coalesce(max(commit_id), 0) FROM events")
    last_commit = int(row[0]) if row else 0
    catch_up_visibility(con, last_commit)
    try:
        migrate(con, version)  # after the catch-up: a step may read the visibility rows
    except duckdb.Error as exc:
        con.close()
        raise StoreError(f"cannot migrate {path!r} from schema version {version}: {exc}") from exc
    return con, last_commit


def catch_up_visibility(con: duckdb.DuckDBPyConnection, last_commit: int) -> int:
    """Rebuild the ``workflows`` rows of commits whose trailing rows were never written (the
    process died first); return how many workflows that touched."""
    written = stored_visibility_commit(con)
    if written is None:  # a new file, or one from before trailing rows: nothing trails
        con.execute("INSERT INTO aion_meta VALUES (?, ?)", [VISIBILITY_COMMIT, str(last_commit)])
        return 0
    if written >= last_commit:
        return 0
    ids = [
        wid
        for (wid,) in con.execute(
            "SELECT DISTINCT workflow_id FROM events WHERE commit_id > ?", [written]
        ).fetchall()
    ]
    infos = [derived_from_history(read_stored_events(con, wid))[0] for wid in ids]
    with transaction(con):
        con.execute("DELETE FROM workflows WHERE list_contains(?, workflow_id)", [ids])
        _insert(con, "workflows", [workflow_row(i) for i in infos if i is not None])
        con.execute(
            "UPDATE aion_meta SET value = ? WHERE key = ?", [str(last_commit), VISIBILITY_COMMIT]
        )
    return len(ids)


def rebuild_visibility(con: duckdb.DuckDBPyConnection) -> int:
    """Recompute ``workflows`` and ``timers`` from ``events`` in one transaction."""
    infos: list[dict[str, Any]] = []
    timers: list[dict[str, Any]] = []
    for history in _histories(con.cursor()):
        info, pending = derived_from_history(history)
        if info is not None:
            infos.append(workflow_row(info))
        timers.extend(t.model_dump() for t in pending)
    with transaction(con):
        con.execute("DELETE FROM workflows")
        con.execute("DELETE FROM timers")
        _insert(con, "workflows", infos)
        _insert(con, "timers", timers)
    return len(infos)


_SCHEMAS = {"workflows": WORKFLOWS_ARROW, "timers": TIMERS_ARROW}


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert derived rows (dicts by column name) in one statement."""
    con.register("aion_rebuilt", pa.Table.from_pylist(rows, _SCHEMAS[table]))
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM aion_rebuilt")
    con.unregister("aion_rebuilt")


def _histories(cursor: duckdb.DuckDBPyConnection) -> Iterator[list[Event]]:
    """Every stored history, one workflow at a time."""
    cursor.execute(
        "SELECT workflow_id, seq, type, run_id, epoch_us(recorded_at), data FROM events "
        "ORDER BY workflow_id, seq"
    )
    for workflow_id, rows in itertools.groupby(_fetched(cursor), key=operator.itemgetter(0)):
        yield events_from_rows(workflow_id, [row[1:] for row in rows])
    cursor.close()


def _fetched(cursor: duckdb.DuckDBPyConnection) -> Iterator[tuple[Any, ...]]:
    while batch := cursor.fetchmany(10_000):
        yield from batch
