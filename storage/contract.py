"""The HistoryStore protocol and the small value types it speaks.

Invariants every store keeps (the conformance suite in ``tests/contract`` checks them):
- ``append`` is all-or-nothing; seqs are 1-based and contiguous per workflow id;
- a stale ``expected_seq`` raises SequenceConflictError and a stale lease epoch FencedError,
  writing nothing; a retry of an append that already landed succeeds without duplicating it;
- nothing is appended after a run's terminal event except what opens a new lease on the same
  history (the next run's ``WorkflowStarted`` after continue-as-new, a ``WorkflowReopened``);
- reads never raise for an unknown id: its history is empty;
- the visibility projection and the timer index change in the same transaction as the events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from aion_ray.model.events import Event, UtcDatetime
from aion_ray.model.lease import Lease
from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo

DEADLINE_TIMER_ID = 0
"""Timer id of a run's execution deadline in the timer index (workflow timers start at 1)."""


class DueTimer(BaseModel):
    """A timer index row: timer ``timer_id`` of run ``run_id`` falls due at ``fire_at``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow_id: str
    run_id: str
    timer_id: int
    fire_at: UtcDatetime


class LifecycleEntry(BaseModel):
    """An operational fact (crash, suspend, resume, placement): logged, never replayed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow_id: str
    run_id: str | None = None
    recorded_at: UtcDatetime
    kind: str = Field(min_length=1)
    detail: dict[str, Any] = Field(default_factory=dict)


class ExportResult(BaseModel):
    """What one ``export_parquet`` call wrote."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    directory: str
    files: tuple[str, ...]
    events_exported: int


@runtime_checkable
class HistoryStore(Protocol):
    """Durable, append-only workflow histories plus their derived indexes."""

    def append(
        self, workflow_id: str, events: Sequence[Event], *, expected_seq: int, lease: Lease
    ) -> int:
        """Append ``events`` (seqs ``expected_seq + 1 ...``) atomically; return the new head."""
        ...

    async def append_async(
        self, workflow_id: str, events: Sequence[Event], *, expected_seq: int, lease: Lease
    ) -> int:
        """``append`` for asyncio callers: same contract, awaits instead of blocking."""
        ...

    def read_history(self, workflow_id: str, from_seq: int = 1) -> list[Event]:
        """Events with ``seq >= from_seq`` in order; an unknown id reads as empty."""
        ...

    def acquire_lease(self, workflow_id: str, *, holder: str = "") -> Lease:
        """A lease with an epoch one above the current one, fencing every older lease."""
        ...

    def due_timers(self, as_of: datetime, *, limit: int = 1000) -> list[DueTimer]:
        """Timers with ``fire_at <= as_of``, earliest first."""
        ...

    def workflow_info(self, workflow_id: str) -> WorkflowInfo | None:
        """The visibility record of one workflow, or None if it never started."""
        ...

    def list_workflows(self, flt: WorkflowFilter | None = None) -> list[WorkflowInfo]:
        """Workflows matching ``flt``, ordered by (started_at, workflow_id)."""
        ...

    def count_workflows(self, flt: WorkflowFilter | None = None) -> int:
        """How many workflows match ``flt`` (ignoring its limit and offset)."""
        ...

    def record_lifecycle(self, entries: Sequence[LifecycleEntry]) -> None:
        """Log operational facts to the lifecycle table."""
        ...

    def read_lifecycle(self, workflow_id: str) -> list[LifecycleEntry]:
        """The lifecycle log of one workflow, oldest first."""
        ...

    def rebuild_visibility(self) -> int:
        """Recompute the visibility projection from the events; return how many workflows."""
        ...

    def sql(self, query: str) -> Any:
        """Run one read-only query over the public schema; return a pyarrow Table."""
        ...

    def export_parquet(self, directory: str | Path) -> ExportResult:
        """Write new events (and snapshots of the other tables) as Parquet, atomically."""
        ...

    def close(self) -> None:
        """Flush and release resources; further calls raise StoreError."""
        ...
