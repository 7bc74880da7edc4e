"""What the engine asks of a history store, split by role, and the values those roles speak.

A host needs only some roles on its critical path: the writer (appends, many workflows per
call), the reader (replay), leases, and the timer index; visibility, the lifecycle log and
analytics serve clients and operators; the definitions catalogue and the suspension index
serve the control plane (the workflow code kept with the store, and which workflows wait in
their history alone). ``aion_ray.storage.HistoryStore`` is all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field

from aion_ray.errors import AionError, InvalidInputError
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


SUSPENDED = "suspended"
"""The lifecycle kind of a suspension (see ``SuspendedWorkflow``)."""


class SuspendedWorkflow(NamedTuple):
    """A workflow its host let go of: only its history holds it, at ``head``, until an
    arrival or its next wake at ``wake_at`` (None: no timer, only an arrival wakes it).
    ``host`` names the host that let it go.

    A suspension is logged as a lifecycle entry of kind ``SUSPENDED`` (``entry``), recorded
    on its own or riding on an append, where the store checks it (``of_entry``) and indexes
    the newest one of each workflow while nothing has been appended since
    (``SuspensionIndex``). A named tuple: a store lists up to millions of them, and one
    costs a quarter of a frozen dataclass to build.
    """

    workflow_id: str
    run_id: str
    head: int
    host: str
    wake_at: datetime | None = None

    def entry(self, recorded_at: datetime) -> LifecycleEntry:
        """The lifecycle entry that records this suspension."""
        wake_at = self.wake_at.isoformat() if self.wake_at is not None else None
        return LifecycleEntry(
            workflow_id=self.workflow_id,
            run_id=self.run_id,
            recorded_at=recorded_at,
            kind=SUSPENDED,
            detail={"host": self.host, "head": self.head, "wake_at": wake_at},
        )

    @classmethod
    def of_entry(cls, entry: LifecycleEntry) -> SuspendedWorkflow:
        """The suspension a ``SUSPENDED`` entry records; InvalidInputError naming the field
        if it records none. Keys of the detail beyond those of ``entry`` are ignored."""
        run_id, detail = entry.run_id, entry.detail
        head, host, wake = detail.get("head"), detail.get("host"), detail.get("wake_at")
        if not isinstance(run_id, str) or not run_id:
            raise _not_a_suspension(entry, f"run_id must be a non-empty str, got {run_id!r}")
        if isinstance(head, bool) or not isinstance(head, int) or head < 1:
            raise _not_a_suspension(entry, f"head must be an int >= 1, got {head!r}")
        if not isinstance(host, str):
            raise _not_a_suspension(entry, f"host must be a str, got {host!r}")
        return cls(entry.workflow_id, run_id, head, host, _wake_time(entry, wake))


def _wake_time(entry: LifecycleEntry, wake: object) -> datetime | None:
    """A suspension's ``wake_at`` detail (an aware ISO 8601 time or None), in UTC."""
    if wake is None:
        return None
    try:
        at = datetime.fromisoformat(wake) if isinstance(wake, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        raise _not_a_suspension(entry, f"wake_at must be an aware ISO time or None, got {wake!r}")
    return at.astimezone(UTC)


def _not_a_suspension(entry: LifecycleEntry, reason: str) -> InvalidInputError:
    return InvalidInputError(
        f"the suspended entry of {entry.workflow_id!r} is not a suspension: {reason} "
        "(see SuspendedWorkflow.entry)"
    )


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


class DefinitionCatalogue(Protocol):
    """The workflow code the engine was given, kept with the store as opaque bytes (the
    caller pickles and unpickles), one per workflow type and code fingerprint."""

    def save_definition(self, workflow_type: str, fingerprint: str, blob: bytes) -> None:
        """Keep ``blob`` as the newest definition of ``workflow_type``. Saving the type's
        newest fingerprint again changes nothing; an older fingerprint becomes the newest
        again (its blob replaced). Bad input raises InvalidInputError, writing nothing."""
        ...

    def load_definitions(self, workflow_types: Iterable[str]) -> dict[str, bytes]:
        """The newest definition of each of ``workflow_types`` that has one."""
        ...


class SuspensionIndex(Protocol):
    def suspended_workflows(
        self, *, after: str | None = None, limit: int | None = None
    ) -> list[SuspendedWorkflow]:
        """Open workflows whose newest suspension is still their last word (nothing was
        appended to their history since), ordered by workflow id; ``after`` and ``limit``
        page through them (ids greater than ``after``, at most ``limit`` of them)."""
        ...
