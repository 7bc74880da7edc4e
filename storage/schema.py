"""The public SQL schema (users query it) and its Arrow twins.

events(workflow_id, run_id, seq, type, recorded_at, data, commit_id)
    one row per event; ``type`` is the event class name, ``data`` its JSON without the
    envelope; ``commit_id`` orders commits (incremental Parquet export uses it)
workflows(workflow_id, run_id, workflow_type, status, started_at, closed_at,
          search_attributes, parent_workflow_id)
    the visibility projection: derived from events, one row per workflow id (current run)
lifecycle(workflow_id, run_id, recorded_at, kind, detail)
    operational facts (crashes, suspensions, placements), never replayed
timers(workflow_id, run_id, timer_id, fire_at)
    pending durable timers; timer_id 0 is a run's execution deadline
schedules(schedule_id, workflow_type, paused, note, next_fire_at, last_tick_at, buffered,
          missed, skipped, spec, state, input, created_at, updated_at)
    one row per schedule (see ``storage.schedules``); ``spec``, ``state``, ``input`` are JSON

The store's own tables (not part of the public schema, not exported): ``leases``,
``aion_meta``, ``definitions`` (the definitions catalogue: opaque bytes per workflow type and
fingerprint, ``revision`` orders saves) and ``suspensions`` (the suspension index: one row per
workflow whose newest ``suspended`` lifecycle entry is still its last word).

Version 2 added ``definitions`` and ``suspensions``, version 3 ``schedules``; an older file is
migrated when it is opened (see ``storage.duckdb.migrations``).
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 3

_TS = pa.timestamp("us", tz="UTC")

EVENTS_ARROW = pa.schema(
    [
        ("workflow_id", pa.string()),
        ("run_id", pa.string()),
        ("seq", pa.int64()),
        ("type", pa.string()),
        ("recorded_at", _TS),
        ("data", pa.string()),
        ("commit_id", pa.int64()),
    ]
)
WORKFLOWS_ARROW = pa.schema(
    [
        ("workflow_id", pa.string()),
        ("run_id", pa.string()),
        ("workflow_type", pa.string()),
        ("status", pa.string()),
        ("started_at", _TS),
        ("closed_at", _TS),
        ("search_attributes", pa.string()),
        ("parent_workflow_id", pa.string()),
    ]
)
LIFECYCLE_ARROW = pa.schema(
    [
        ("workflow_id", pa.string()),
        ("run_id", pa.string()),
        ("recorded_at", _TS),
        ("kind", pa.string()),
        ("detail", pa.string()),
    ]
)
TIMERS_ARROW = pa.schema(
    [
        ("workflow_id", pa.string()),
        ("run_id", pa.string()),
        ("timer_id", pa.int64()),
        ("fire_at", _TS),
    ]
)
SCHEDULES_ARROW = pa.schema(
    [
        ("schedule_id", pa.string()),
        ("workflow_type", pa.string()),
        ("paused", pa.bool_()),
        ("note", pa.string()),
        ("next_fire_at", _TS),
        ("last_tick_at", _TS),
        ("buffered", pa.int64()),
        ("missed", pa.int64()),
        ("skipped", pa.int64()),
        ("spec", pa.string()),
        ("state", pa.string()),
        ("input", pa.string()),
        ("created_at", _TS),
        ("updated_at", _TS),
    ]
)

DDL = (
    """CREATE TABLE IF NOT EXISTS events (
        workflow_id VARCHAR NOT NULL, run_id VARCHAR NOT NULL, seq BIGINT NOT NULL,
        type VARCHAR NOT NULL, recorded_at TIMESTAMPTZ NOT NULL, data JSON NOT NULL,
        commit_id BIGINT NOT NULL)""",
    # Reads of one history go through this index; a composite (workflow_id, seq) key would
    # cost more file and CPU per append and is not used for reads by DuckDB.
    "CREATE INDEX IF NOT EXISTS events_by_workflow ON events (workflow_id)",
    """CREATE TABLE IF NOT EXISTS workflows (
        workflow_id VARCHAR PRIMARY KEY, run_id VARCHAR NOT NULL, workflow_type VARCHAR NOT NULL,
        status VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL, closed_at TIMESTAMPTZ,
        search_attributes JSON NOT NULL, parent_workflow_id VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS lifecycle (
        workflow_id VARCHAR NOT NULL, run_id VARCHAR, recorded_at TIMESTAMPTZ NOT NULL,
        kind VARCHAR NOT NULL, detail JSON NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS timers (
        workflow_id VARCHAR NOT NULL, run_id VARCHAR NOT NULL, timer_id BIGINT NOT NULL,
        fire_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (workflow_id, timer_id))""",
    """CREATE TABLE IF NOT EXISTS leases (
        workflow_id VARCHAR PRIMARY KEY, epoch BIGINT NOT NULL, holder VARCHAR NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS aion_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    """CREATE TABLE IF NOT EXISTS definitions (
        workflow_type VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL, blob BLOB NOT NULL,
        revision BIGINT NOT NULL, PRIMARY KEY (workflow_type, fingerprint))""",
    """CREATE TABLE IF NOT EXISTS suspensions (
        workflow_id VARCHAR PRIMARY KEY, run_id VARCHAR NOT NULL, head BIGINT NOT NULL,
        wake_at TIMESTAMPTZ, host VARCHAR NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS schedules (
        schedule_id VARCHAR PRIMARY KEY, workflow_type VARCHAR NOT NULL,
        paused BOOLEAN NOT NULL, note VARCHAR NOT NULL, next_fire_at TIMESTAMPTZ,
        last_tick_at TIMESTAMPTZ, buffered BIGINT NOT NULL, missed BIGINT NOT NULL,
        skipped BIGINT NOT NULL, spec JSON NOT NULL, state JSON NOT NULL, input JSON NOT NULL,
        created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL)""",
)

SNAPSHOT_SCHEMAS = {
    "workflows": WORKFLOWS_ARROW,
    "lifecycle": LIFECYCLE_ARROW,
    "timers": TIMERS_ARROW,
}
"""The tables an export rewrites whole each time (events are exported incrementally)."""
