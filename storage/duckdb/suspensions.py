"""The suspension index in the ``suspensions`` table: rows, reads and the lookup a state
cache miss makes (see ``storage.suspensions`` for what the index holds)."""

from __future__ import annotations

from typing import Any

import duckdb

from aion_ray.model.store import SuspendedWorkflow
from aion_ray.storage.codec import datetime_from_epoch_us

HAS_SUSPENSION = "SELECT 1 FROM suspensions WHERE workflow_id = ?"


def suspension_row(suspended: SuspendedWorkflow) -> tuple[Any, ...]:
    s = suspended  # in the table's column order
    return (s.workflow_id, s.run_id, s.head, s.wake_at, s.host)


def read_suspended(
    cursor: duckdb.DuckDBPyConnection, after: str | None, limit: int | None
) -> list[SuspendedWorkflow]:
    """Indexed suspensions with ids above ``after``, by id, at most ``limit`` of them."""
    query = "SELECT workflow_id, run_id, head, host, epoch_us(wake_at) FROM suspensions"
    params: list[Any] = []
    if after is not None:
        query += " WHERE workflow_id > ?"
        params.append(after)
    query += " ORDER BY workflow_id"
    if limit is not None:
        query += f" LIMIT {int(limit)}"
    rows = cursor.execute(query, params).fetchall()
    make, at = SuspendedWorkflow._make, datetime_from_epoch_us
    return [make((w, r, h, host, None if us is None else at(us))) for w, r, h, host, us in rows]
