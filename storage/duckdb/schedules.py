"""The schedules role in the ``schedules`` table (see ``storage.schedules`` for the row).

Writes run on the store's write connection between group commits (one statement each, so
each is atomic); reads run on the calling thread's cursor (``readers.Readers.run``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import duckdb

from aion_ray.model.schedule_state import StoredSchedule
from aion_ray.storage.codec import datetime_from_epoch_us
from aion_ray.storage.inputs import checked_time
from aion_ray.storage.schedules import (
    checked_schedule,
    checked_schedule_id,
    schedule_of,
    schedule_row,
)
from aion_ray.storage.schema import SCHEDULES_ARROW
from aion_ray.storage.suspensions import checked_page

Exclusive = Callable[[Callable[[duckdb.DuckDBPyConnection], Any]], Any]

_COLUMNS = ", ".join(SCHEDULES_ARROW.names)
_PUT = f"INSERT OR REPLACE INTO schedules ({_COLUMNS}) VALUES ({', '.join('?' * 14)})"
_READ = (
    "SELECT schedule_id, workflow_type, spec::VARCHAR, state::VARCHAR, input::VARCHAR, "
    "epoch_us(created_at), epoch_us(updated_at) FROM schedules"
)
_DUE = (
    f"{_READ} WHERE NOT paused AND (next_fire_at <= ? OR buffered > 0) "
    "ORDER BY coalesce(next_fire_at, updated_at), schedule_id LIMIT ?"
)


class DuckDBSchedules:
    """The schedules role of a DuckDB store: ``exclusive`` runs work on its write
    connection, ``read`` runs a read on the calling thread's cursor."""

    def __init__(self, exclusive: Exclusive, read: Exclusive) -> None:
        self._exclusive, self._run_read = exclusive, read

    def put_schedule(self, schedule: StoredSchedule) -> None:
        self.put_schedules([schedule])

    def put_schedules(self, schedules: Sequence[StoredSchedule]) -> None:
        """One transaction for them all: a firing round of many schedules costs one commit."""
        rows = [list(schedule_row(checked_schedule(s)).values()) for s in schedules]
        if not rows:
            return

        def put(con: duckdb.DuckDBPyConnection) -> None:
            con.execute("BEGIN TRANSACTION")
            try:
                con.executemany(_PUT, rows)
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

        self._exclusive(put)

    def get_schedule(self, schedule_id: str) -> StoredSchedule | None:
        schedule_id = checked_schedule_id(schedule_id)
        found = self._read(f"{_READ} WHERE schedule_id = ?", [schedule_id])
        return found[0] if found else None

    def list_schedules(
        self, *, after: str | None = None, limit: int | None = None
    ) -> list[StoredSchedule]:
        after, limit = checked_page(after, limit)
        where = "WHERE schedule_id > ?" if after is not None else "WHERE ? IS NULL"
        return self._read(f"{_READ} {where} ORDER BY schedule_id LIMIT ?", [after, limit])

    def due_schedules(self, as_of: datetime, *, limit: int = 1000) -> list[StoredSchedule]:
        as_of, limit = checked_time(as_of, limit)
        return self._read(_DUE, [as_of, limit])

    def delete_schedule(self, schedule_id: str) -> bool:
        schedule_id = checked_schedule_id(schedule_id)

        def delete(con: duckdb.DuckDBPyConnection) -> bool:
            deleted = con.execute(
                "DELETE FROM schedules WHERE schedule_id = ? RETURNING schedule_id", [schedule_id]
            ).fetchall()
            return bool(deleted)

        return bool(self._exclusive(delete))

    def _read(self, query: str, parameters: list[Any]) -> list[StoredSchedule]:
        rows = self._run_read(lambda cursor: cursor.execute(query, parameters).fetchall())
        return [
            schedule_of(i, t, spec, state, payload, *map(datetime_from_epoch_us, times))
            for i, t, spec, state, payload, *times in rows
        ]
