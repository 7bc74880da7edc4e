"""Bulk-load millions of synthetic history rows into a store file with DuckDB SQL.

Appending 10M events through ``append`` would take hours, so the rows are generated in one
``INSERT ... SELECT FROM range(n)``. They look like what the store writes: ``data`` is a real
event's ``data`` JSON (produced by the store's own codec) with its numbers varied, ids are
UUIDv7-shaped, and workflows interleave the way concurrent workflows do: windows of
``active`` workflows run side by side, each advancing one event per round, 50 events each.
Every history is WorkflowStarted, 16 activities (Scheduled, Started, Completed), and
WorkflowCompleted.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from typing import Any

import duckdb

from aion_ray.model import events as ev
from aion_ray.model.payload import encode
from aion_ray.storage import DuckDBHistoryStore
from aion_ray.storage.codec import event_data
from benchmarks.store_workloads import (
    ACTIVITY_TYPE,
    T0,
    WORKFLOW_TYPE,
    started_input,
    workflow_result,
)

HISTORY_LENGTH = 50
INDEX_NAME = "events_by_workflow"
_SENTINEL = re.compile(r"77700\d")


def _data_template(event: ev.Event, numbers: dict[str, str]) -> str:
    """A SQL expression building ``event``'s data JSON, with each sentinel number
    (777001...) in it replaced by the SQL expression ``numbers`` gives for it."""
    text = event_data(event)
    parts = []
    position = 0
    for match in _SENTINEL.finditer(text):
        parts.append("'" + text[position : match.start()].replace("'", "''") + "'")
        parts.append(f"CAST(({numbers[match.group()]}) AS VARCHAR)")
        position = match.end()
    parts.append("'" + text[position:].replace("'", "''") + "'")
    return " || ".join(parts)


def _templates() -> dict[str, ev.Event]:
    """One real event per type; 777001 stands for the activity id, 777002 for a row count
    and 777003 for a loss (a float)."""
    envelope: dict[str, Any] = {"workflow_id": "w", "run_id": "r", "seq": 1, "recorded_at": T0}
    return {
        "WorkflowStarted": ev.WorkflowStarted(
            **envelope, workflow_type=WORKFLOW_TYPE, input=started_input()
        ),
        "ActivityScheduled": ev.ActivityScheduled(
            **envelope,
            activity_id=777001,
            activity_type=ACTIVITY_TYPE,
            input=encode({"shard": 777001, "lr": 0.001}),
        ),
        "ActivityStarted": ev.ActivityStarted(**envelope, activity_id=777001, attempt=1),
        "ActivityCompleted": ev.ActivityCompleted(
            **envelope,
            activity_id=777001,
            attempt=1,
            result=encode({"loss": 777003, "rows": 777002}),
        ),
        "WorkflowCompleted": ev.WorkflowCompleted(**envelope, result=workflow_result()),
    }


def _case_expressions() -> tuple[str, str]:
    """SQL CASE expressions for ``type`` and ``data`` over columns ``i`` (row number),
    ``seq`` and ``act`` (activity number)."""
    numbers = {"777001": "act", "777002": "1000 + act", "777003": "(i * 7919 % 10000) / 10000.0"}
    data = {name: _data_template(event, numbers) for name, event in _templates().items()}
    kind = (
        f"CASE WHEN seq = 1 THEN 'WorkflowStarted' WHEN seq = {HISTORY_LENGTH} "
        "THEN 'WorkflowCompleted' ELSE "
        "['ActivityScheduled', 'ActivityStarted', 'ActivityCompleted'][(seq - 2) % 3 + 1] END"
    )
    body = " ".join(f"WHEN '{name}' THEN {sql}" for name, sql in data.items())
    return kind, f"CASE type {body} END"


def _uuid7(ms: str, seed: str) -> str:
    """A UUIDv7-shaped string: 12 hex digits of time ``ms``, then md5(``seed``) bits."""
    t = f"lower(lpad(to_hex(CAST({ms} AS BIGINT)), 12, '0'))"
    m = f"md5({seed})"
    return (
        f"substr({t}, 1, 8) || '-' || substr({t}, 9, 4) || '-7' || substr({m}, 1, 3) || '-8'"
        f" || substr({m}, 4, 3) || '-' || substr({m}, 7, 12)"
    )


_BASE_MS = int(T0.timestamp() * 1000)
_WORKFLOW_ID = _uuid7(f"{_BASE_MS} + wf * 7", "CAST(wf AS VARCHAR)")
_RUN_ID = _uuid7(f"{_BASE_MS} + wf * 7 + 1", "'run-' || CAST(wf AS VARCHAR)")


def insert_sql(events: int, active: int) -> str:
    """The INSERT generating ``events`` rows in windows of ``active`` workflows: row ``i``
    is event ``seq`` of workflow number ``wf``. Rows keep the order of ``range`` (DuckDB
    preserves insertion order), so they sit in the file as concurrent appends would."""
    window = active * HISTORY_LENGTH
    kind, data = _case_expressions()
    return f"""
    INSERT INTO events
    WITH pos AS (
        SELECT i, (i // {window}) * {active} + (i % {window}) % {active} AS wf,
               (i % {window}) // {active} + 1 AS seq
        FROM range({events}) AS r(i)
    ), typed AS (
        SELECT *, (seq - 2) // 3 + 1 AS act, {kind} AS type FROM pos
    )
    SELECT {_WORKFLOW_ID}, {_RUN_ID}, seq, type,
           TIMESTAMPTZ '{T0.isoformat()}' + to_microseconds(i * 1000), {data}, i // 100 + 1
    FROM typed
    """


@dataclass(frozen=True)
class BulkLoad:
    """What ``bulk_load`` built: its row count and how long each step took."""

    events: int
    workflows: int
    insert_seconds: float
    index_seconds: float
    bytes_without_index: int
    bytes_with_index: int


def bulk_load(path: str, events: int, active: int = 2000, threads: int = 2) -> BulkLoad:
    """Create a store file at ``path`` and fill it with ``events`` rows (a multiple of
    50 * ``active``), building the workflow_id index after the rows, as one bulk step."""
    if events <= 0 or events % (active * HISTORY_LENGTH):
        raise ValueError(f"events must be a positive multiple of {active * HISTORY_LENGTH:,}")
    DuckDBHistoryStore(path).close()  # the real schema, exactly as the store creates it
    con = duckdb.connect(path, config={"threads": str(threads)})
    con.execute("SET enable_progress_bar = false")
    try:
        con.execute(f"DROP INDEX {INDEX_NAME}")
        start = time.perf_counter()
        con.execute(insert_sql(events, active))
        # The loader writes events only and vouches for the derived rows as they are: the
        # store must not rebuild the visibility of 10M events at open as after a crash.
        con.execute(
            "UPDATE aion_meta SET value = (SELECT max(commit_id) FROM events)::VARCHAR "
            "WHERE key = 'visibility_commit'"
        )
        con.execute("CHECKPOINT")
        inserted = time.perf_counter()
        without_index = os.path.getsize(path)
        con.execute(f"CREATE INDEX {INDEX_NAME} ON events (workflow_id)")
        con.execute("CHECKPOINT")
        indexed = time.perf_counter()
    finally:
        con.close()
    return BulkLoad(
        events=events,
        workflows=events // HISTORY_LENGTH,
        insert_seconds=inserted - start,
        index_seconds=indexed - inserted,
        bytes_without_index=without_index,
        bytes_with_index=os.path.getsize(path),
    )


def workflow_ids(path: str, workflows: list[int]) -> list[str]:
    """The ids bulk_load gave the workflows numbered ``workflows``."""
    values = ", ".join(str(number) for number in workflows)
    con = duckdb.connect(path, read_only=True)
    try:
        query = f"SELECT {_WORKFLOW_ID} FROM unnest([{values}]) AS t(wf)"
        return [row[0] for row in con.execute(query).fetchall()]
    finally:
        con.close()
