"""The writer's bulk writes: every table write of a group commit, one statement per kind.

DuckDB charges a fixed cost per statement that dwarfs the per-row cost, so a group writes
each kind of change with one statement, whatever the number of rows, and a group that only
adds events commits in one autocommitted statement. Events, the bulk of a busy group, go in
as one Arrow table: building its columns costs about a fifth of converting the same rows
through an appender. Binding a table is a fixed cost of its own, so small groups (a lone
workflow's append) and the small tables use DuckDB appenders.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import duckdb
import pyarrow as pa

from aion_ray.storage.codec import EventColumns
from aion_ray.storage.schema import EVENTS_ARROW

EVENTS_AS_ARROW = "events_arrow"
ARROW_MIN_ROWS = 64
"""From this many event rows on, an Arrow table beats an appender (measured crossover:
between 10 and 100 rows; below it the appender saves about 1 ms per commit)."""


class Appenders:
    """Buffered writes for the store's tables, flushed together in one transaction."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        # Order matters: deletes run before inserts, so a cleared run can be re-armed.
        self._kinds: dict[str, Any] = {
            "timers_clear": con.appender("timers", action="delete", key=["workflow_id"]),
            "timers_remove": con.appender(
                "timers", action="delete", key=["workflow_id", "timer_id"]
            ),
            "suspensions_remove": con.appender("suspensions", action="delete", key=["workflow_id"]),
            "events": con.appender("events"),
            "workflows_insert": con.appender("workflows"),
            "workflows_update": con.appender("workflows", action="update", key=["workflow_id"]),
            "timers_insert": con.appender("timers"),
            "leases_insert": con.appender("leases"),
            "leases_update": con.appender("leases", action="update", key=["workflow_id"]),
            "lifecycle": con.appender("lifecycle"),
            "suspensions_insert": con.appender("suspensions"),
            "meta_update": con.appender("aion_meta", action="update", key=["key"]),
        }
        self._pending: set[str] = set()
        self._events: pa.Table | None = None

    def add_events(self, rows: EventColumns, commit_id: int) -> None:
        """Buffer event rows, all of them from the commit ``commit_id``."""
        if len(rows) < ARROW_MIN_ROWS:
            self.add("events", rows.rows(commit_id))
            return
        commits = [commit_id] * len(rows)
        fields = zip([*rows.lists(), commits], EVENTS_ARROW, strict=True)
        arrays = [pa.array(values, type=f.type) for values, f in fields]
        self._events = pa.Table.from_arrays(arrays, schema=EVENTS_ARROW)
        self._pending.add(EVENTS_AS_ARROW)

    def add(self, kind: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = list(rows)
        if batch:
            self._kinds[kind].append_rows(batch)
            self._pending.add(kind)

    def flush(self) -> None:
        """Write every buffered row atomically (one transaction), or nothing on error."""
        kinds = [kind for kind in (*self._kinds, EVENTS_AS_ARROW) if kind in self._pending]
        self._pending.clear()
        if len(kinds) == 1:
            self._write(kinds[0])  # one statement: autocommit is atomic
        elif kinds:
            self._con.begin()
            try:
                for kind in kinds:
                    self._write(kind)
                self._con.commit()
            except Exception:
                self._con.rollback()
                raise

    def _write(self, kind: str) -> None:
        if kind != EVENTS_AS_ARROW:
            self._kinds[kind].flush()
            return
        events, self._events = self._events, None
        self._con.from_arrow(events).insert_into("events")

    def discard(self) -> None:
        """Drop whatever is buffered (after a failed flush)."""
        for appender in self._kinds.values():
            appender.clear()
        self._events = None
        self._pending.clear()
