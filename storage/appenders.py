"""The writer's DuckDB appenders: every table write of a group commit, one flush per kind.

DuckDB charges a fixed cost per statement that dwarfs the per-row cost, so a group writes
each kind of change with one appender flush, whatever the number of rows, and a group that
only adds events commits in one autocommitted statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import duckdb


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
            "events": con.appender("events"),
            "workflows_insert": con.appender("workflows"),
            "workflows_update": con.appender("workflows", action="update", key=["workflow_id"]),
            "timers_insert": con.appender("timers"),
            "leases_insert": con.appender("leases"),
            "leases_update": con.appender("leases", action="update", key=["workflow_id"]),
            "lifecycle": con.appender("lifecycle"),
        }
        self._pending: set[str] = set()

    def add(self, kind: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = list(rows)
        if batch:
            self._kinds[kind].append_rows(batch)
            self._pending.add(kind)

    def flush(self) -> None:
        """Write every buffered row atomically (one transaction), or nothing on error."""
        kinds = [kind for kind in self._kinds if kind in self._pending]
        self._pending.clear()
        if not kinds:
            return
        if len(kinds) == 1:
            self._kinds[kinds[0]].flush()  # one statement: autocommit is atomic
            return
        self._con.begin()
        try:
            for kind in kinds:
                self._kinds[kind].flush()
            self._con.commit()
        except Exception:
            self._con.rollback()
            raise

    def discard(self) -> None:
        """Drop whatever is buffered (after a failed flush)."""
        for appender in self._kinds.values():
            appender.clear()
        self._pending.clear()
