"""Recovery on connect: which of the store's running workflows to host again, and which to
leave parked.

A workflow suspended by a host (a ``suspended`` lifecycle row, written durably, with the
history's head then and its next wake) that has recorded nothing since was blocked on durable
waits when the engine stopped: it stays parked, with its wake armed, and costs no actor until
a signal, a timer, a child or a query brings it back. Every other running workflow (resident
when the engine stopped, or given something since it was parked) is resumed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aion_ray.engine.transport import Parked

PARKED_QUERY = """
WITH parked AS (
    SELECT l.workflow_id, arg_max(l.detail, l.recorded_at) AS detail
    FROM lifecycle AS l JOIN workflows AS w USING (workflow_id)
    WHERE l.kind = 'suspended' AND w.status IN ('running', 'paused')
    GROUP BY l.workflow_id
), heads AS (
    SELECT workflow_id, max(seq) AS head FROM events
    WHERE workflow_id IN (SELECT workflow_id FROM parked) GROUP BY workflow_id
)
SELECT p.workflow_id, p.detail FROM parked AS p JOIN heads AS h USING (workflow_id)
WHERE TRY_CAST(json_extract_string(p.detail, '$.head') AS BIGINT) = h.head
"""
"""Running workflows whose last suspension is also their last word (one query at connect)."""


@dataclass(frozen=True)
class StillParked:
    workflow_id: str
    wake_at: datetime | None


def parked_detail(host: str, parked: Parked) -> dict[str, Any]:
    """The detail of a ``suspended`` lifecycle row (what ``still_parked`` reads back)."""
    wake = parked.wake_at.isoformat() if parked.wake_at is not None else None
    return {"host": host, "head": parked.head, "wake_at": wake}


def still_parked(table: Any) -> list[StillParked]:
    """The rows of PARKED_QUERY (a pyarrow Table) as workflows to leave parked."""
    found = []
    for workflow_id, detail in zip(
        table.column("workflow_id").to_pylist(), table.column("detail").to_pylist(), strict=True
    ):
        wake = json.loads(detail).get("wake_at")
        found.append(StillParked(workflow_id, datetime.fromisoformat(wake) if wake else None))
    return found
