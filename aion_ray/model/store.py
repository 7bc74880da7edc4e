"""What the engine asks of a history store, split by role, and the values those roles speak.

A host needs only some roles on its critical path: the writer (appends, many workflows per
call), the reader (replay), leases, and the timer index; visibility, the lifecycle log and
analytics serve clients and operators. ``aion_ray.storage.HistoryStore`` is all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from aion_ray.errors import AionError
from aion_ray.model.events import Event, UtcDatetime
from aion_ray.model.lease import Lease
from aion_ray.model.rows import EncodedEvents
from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo

DEADLINE_TIMER_ID = 0
"""Timer id of a run's execution deadline in the timer index (workflow timers start at 1;
an activity's retry time is indexed as timer id ``-activity_id``)."""

WakeKind = Literal["timer", "retry", "deadline", "heartbeat"]
WakeKey = tuple[WakeKind, int]
"""What a wake is for: ("timer", timer_id), ("retry", activity_id), ("deadline", 0) or
("heartbeat", activity_id) (a running attempt's heartbeat timeout; never indexed)."""


class DueTimer(BaseModel):
    """A timer index row: timer ``timer_id`` of run ``run_id`` falls due at ``fire_at``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow_id: str
    run_id: str
    timer_id: int
    fire_at: UtcDatetime

    @property
    def wake(self) -> WakeKey:
        """The wake this row stands for: a durable timer, an activity retry or the deadline."""
        if self.timer_id > 0:
            return ("timer", self.timer_id)
        if self.timer_id < 0:
            return ("retry", -self.timer_id)
        return ("deadline", 0)


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


@dataclass(frozen=True, slots=True)
class AppendRequest:
    """One workflow's append in a batch.

    With ``lease`` the holder appends under the lease it has. With ``acquire`` (a holder
    name, and no lease) the store first checks that the head is ``expected_seq``, then takes
    a new lease (fencing every older holder) and appends under it, all in one transaction: a
    start or a resume needs no separate lease write. ``lifecycle`` rows are written in the
    same transaction. An empty ``events`` with ``acquire`` only takes the lease. ``events``
    may come already encoded as rows (``EncodedEvents``), as a host in another process than
    the store sends them.
    """

    workflow_id: str
    events: Sequence[Event] | EncodedEvents
    expected_seq: int
    lease: Lease | None = None
    acquire: str | None = None
    lifecycle: Sequence[LifecycleEntry] = field(default=())


@dataclass(frozen=True, slots=True)
class AppendResult:
    """The outcome of one ``AppendRequest``: the new head and the lease it was written under,
    or the error that refused it (nothing of a refused request is written)."""

    head: int = 0
    lease: Lease | None = None
    error: AionError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class HistoryWriter(Protocol):
    """Appends; every accepted append is durable when the call returns."""

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

    def append_batch(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        """Many workflows' appends in one call and one commit; each is checked on its own,
        and one refused request leaves the others alone. Results are in request order."""
        ...

    async def append_batch_async(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        """``append_batch`` for asyncio callers."""
        ...


class HistoryReader(Protocol):
    def read_history(self, workflow_id: str, from_seq: int = 1) -> list[Event]:
        """Events with ``seq >= from_seq`` in order; an unknown id reads as empty."""
        ...


class LeaseKeeper(Protocol):
    def acquire_lease(self, workflow_id: str, *, holder: str = "") -> Lease:
        """A lease with an epoch one above the current one, fencing every older lease."""
        ...


class TimerIndex(Protocol):
    def due_timers(self, as_of: datetime, *, limit: int = 1000) -> list[DueTimer]:
        """Timers, retry times and deadlines with ``fire_at <= as_of``, earliest first."""
        ...


class VisibilityIndex(Protocol):
    def workflow_info(self, workflow_id: str) -> WorkflowInfo | None:
        """The visibility record of one workflow, or None if it never started."""
        ...

    def list_workflows(self, flt: WorkflowFilter | None = None) -> list[WorkflowInfo]:
        """Workflows matching ``flt``, ordered by (started_at, workflow_id)."""
        ...

    def count_workflows(self, flt: WorkflowFilter | None = None) -> int:
        """How many workflows match ``flt`` (ignoring its limit and offset)."""
        ...

    def rebuild_visibility(self) -> int:
        """Recompute the visibility projection and timer index from the events."""
        ...


class LifecycleLog(Protocol):
    def record_lifecycle(self, entries: Sequence[LifecycleEntry]) -> None:
        """Log operational facts to the lifecycle table."""
        ...

    def read_lifecycle(self, workflow_id: str) -> list[LifecycleEntry]:
        """The lifecycle log of one workflow, oldest first."""
        ...


class Analytics(Protocol):
    def sql(self, query: str) -> Any:
        """Run one read-only query over the public schema; return a pyarrow Table."""
        ...

    def export_parquet(self, directory: str | Path) -> ExportResult:
        """Write new events (and snapshots of the other tables) as Parquet, atomically."""
        ...
