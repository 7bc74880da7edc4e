"""The rows that trail a group commit: visibility rows and the lifecycle facts of appends.

A group's own transaction holds what must be durable when its callers are acknowledged:
events, leases and the timer index. The ``workflows`` rows (derived from events) and the
lifecycle entries that rode on appends (placements, suspensions: observations, not state) are
kept here and written by the writer in a transaction of their own once it has been idle for a
moment or the oldest row has waited ``max_age`` seconds, and before any read that shows them.
A start then commits one or two statements instead of four (measured: 2.4 ms -> 0.9 ms of
writing for a start, 2.2 -> 0.9 ms for a completion).

If the process dies before a trail is written, the visibility rows are rebuilt from the
events when the file is next opened (``visibility_commit`` in ``aion_meta`` says how far they
are written); the observed lifecycle entries of those last moments are lost.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import duckdb

from aion_ray.model.visibility import WorkflowInfo
from aion_ray.storage.contract import LifecycleEntry
from aion_ray.storage.duckdb.appenders import Appenders
from aion_ray.storage.duckdb.db import first_row
from aion_ray.storage.visibility_rows import workflow_row

VISIBILITY_COMMIT = "visibility_commit"
"""``aion_meta`` key: every commit up to this id has its ``workflows`` rows written."""
TRAIL_IDLE = 0.25
"""Seconds without a request after which the writer writes the trail. Long enough to gather
many workflows' rows: a trail's transaction costs about as much as five small commits, so
written after every short pause (10 ms was tried) it cost a serial workload 8 ms of writer CPU
per workflow against 6 ms at this setting."""
TRAIL_MAX_AGE = 1.0
"""Seconds a trailing row waits at most while the writer stays busy (and, after a crash,
about how many seconds of commits the catch-up at open rebuilds)."""


class Trail:
    """Trailing rows waiting for the writer (changed only under the store's write lock: by
    the writer thread, or by a reader flushing it; ``info`` may be read at any time)."""

    def __init__(
        self, appenders: Appenders, *, idle: float = TRAIL_IDLE, max_age: float = TRAIL_MAX_AGE
    ) -> None:
        self._appenders = appenders
        self.idle = idle
        self.max_age = max_age
        self._infos: dict[str, tuple[WorkflowInfo, bool]] = {}  # id -> (info, row stored)
        self._lifecycle: list[LifecycleEntry] = []
        self._commit_id = 0
        self._since: float | None = None

    @property
    def pending(self) -> bool:
        return self._since is not None

    def due(self, *, idle: bool) -> bool:
        """Whether to write now: the writer has been idle, or the oldest row waited long."""
        if self._since is None:
            return False
        return idle or time.monotonic() - self._since >= self.max_age

    def info(self, workflow_id: str) -> WorkflowInfo | None:
        """The newest visibility of ``workflow_id`` if it is still waiting here."""
        found = self._infos.get(workflow_id)
        return found[0] if found is not None else None

    def add(
        self,
        commit_id: int,
        infos: dict[str, tuple[WorkflowInfo, bool]],
        lifecycle: Sequence[LifecycleEntry],
    ) -> None:
        """Rows of a committed group (``infos``: id -> (info, whether its row was stored
        before that group)). A later info for the same id replaces the earlier one."""
        if not infos and not lifecycle:
            return
        for workflow_id, (info, stored) in infos.items():
            earlier = self._infos.get(workflow_id)
            self._infos[workflow_id] = (info, earlier[1] if earlier is not None else stored)
        self._lifecycle.extend(lifecycle)
        self._commit_id = max(self._commit_id, commit_id)
        if self._since is None:
            self._since = time.monotonic()

    def write(self) -> None:
        """Write every trailing row in one transaction; kept for a retry if that fails."""
        if self._since is None:
            return
        appenders = self._appenders
        new = [_row(info) for info, stored in self._infos.values() if not stored]
        changed = [_row(info) for info, stored in self._infos.values() if stored]
        appenders.add("workflows_insert", new)
        appenders.add("workflows_update", changed)
        appenders.add("lifecycle", (lifecycle_row(entry) for entry in self._lifecycle))
        if self._commit_id:
            appenders.add("meta_update", [(VISIBILITY_COMMIT, str(self._commit_id))])
        try:
            appenders.flush()
        except Exception:
            appenders.discard()
            raise
        self._infos.clear()
        self._lifecycle.clear()
        self._since = None


def stored_visibility_commit(con: duckdb.DuckDBPyConnection) -> int | None:
    # Read to the end: a result left open on the write connection fails its next write.
    row = first_row(con, "SELECT value FROM aion_meta WHERE key = ?", [VISIBILITY_COMMIT])
    return int(row[0]) if row else None


def _row(info: WorkflowInfo) -> tuple[Any, ...]:
    return tuple(workflow_row(info).values())


def lifecycle_row(entry: LifecycleEntry) -> tuple[Any, ...]:
    detail = json.dumps(entry.detail)
    return (entry.workflow_id, entry.run_id, entry.recorded_at, entry.kind, detail)
