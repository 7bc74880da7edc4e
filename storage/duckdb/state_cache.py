"""Per-workflow head state for the DuckDB store's writer, cached and loaded on demand.

Only the writer thread touches it. A miss reads the workflow's last event, lease, visibility
row and whether the timer and suspension indexes hold it, unless the known ids say it is
certainly new; the cache is bounded (least recently used entries are dropped and reloaded).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass

import duckdb

from aion_ray.model.events import EVENT_TYPES, TERMINAL_EVENTS
from aion_ray.model.visibility import WorkflowInfo
from aion_ray.storage.duckdb.db import first_row
from aion_ray.storage.duckdb.known_ids import KnownIds
from aion_ray.storage.duckdb.suspensions import HAS_SUSPENSION
from aion_ray.storage.guard import HeadState
from aion_ray.storage.visibility_rows import info_from_row

_LAST_EVENT = (
    "SELECT seq, type, run_id, data FROM events WHERE workflow_id = ? ORDER BY seq DESC LIMIT 1"
)
_LEASE = "SELECT epoch FROM leases WHERE workflow_id = ?"
_INFO = "SELECT * FROM workflows WHERE workflow_id = ?"
_INDEXED = "SELECT 1 FROM timers WHERE workflow_id = ? LIMIT 1"


@dataclass(frozen=True, slots=True)
class CachedWorkflow:
    state: HeadState
    info: WorkflowInfo | None
    indexed: bool = True
    """Whether the timer index may hold rows of this workflow: when it cannot, a run's end
    (or start) skips the statement that would clear them (a DuckDB statement costs ~1 ms)."""
    suspended: bool = False
    """Whether the suspension index holds a row of this workflow (its next append drops it)."""


class StateCache:
    """An LRU map workflow id -> CachedWorkflow, backed by the database."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, known: KnownIds, capacity: int = 100_000
    ) -> None:
        self._con = con
        self._known = known
        self._capacity = capacity
        self._entries: OrderedDict[str, CachedWorkflow] = OrderedDict()

    def get(self, workflow_id: str) -> CachedWorkflow:
        entry = self._entries.get(workflow_id)
        if entry is None:
            entry = self._load(workflow_id)
            self.put(workflow_id, entry)
        else:
            self._entries.move_to_end(workflow_id)
        return entry

    def put(self, workflow_id: str, entry: CachedWorkflow) -> None:
        self._entries[workflow_id] = entry
        self._entries.move_to_end(workflow_id)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def drop(self, workflow_id: str) -> None:
        self._entries.pop(workflow_id, None)

    def clear(self) -> None:
        self._entries.clear()

    def _load(self, workflow_id: str) -> CachedWorkflow:
        if self._known.certainly_absent(workflow_id):
            return CachedWorkflow(HeadState(), None, indexed=False)
        lease = first_row(self._con, _LEASE, [workflow_id])
        if lease is None:
            # Every append is made under a lease the store granted, so an id without a
            # lease row has no events either: a start needs this one lookup only.
            return CachedWorkflow(HeadState(), None, indexed=False)
        epoch = int(lease[0])
        last = first_row(self._con, _LAST_EVENT, [workflow_id])
        if last is None:
            return CachedWorkflow(HeadState(epoch=epoch), None, indexed=False)
        seq, type_name, run_id, data = last
        terminal = EVENT_TYPES[type_name]
        is_terminal = issubclass(terminal, TERMINAL_EVENTS)
        next_run = json.loads(data).get("next_run_id") if is_terminal else None
        state = HeadState(
            head=int(seq),
            epoch=epoch,
            run_id=run_id,
            terminal=terminal if is_terminal else None,
            next_run_id=next_run,
        )
        row = first_row(self._con, _INFO, [workflow_id])
        indexed = first_row(self._con, _INDEXED, [workflow_id]) is not None
        # Only an open run can be indexed as suspended: an ended one needs no lookup.
        suspended = not is_terminal and first_row(self._con, HAS_SUSPENSION, [workflow_id])
        info = info_from_row(*row) if row else None
        return CachedWorkflow(state, info, indexed, suspended=bool(suspended))
