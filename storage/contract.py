"""The HistoryStore protocol: every role of ``aion_ray.model.store`` in one store.

Invariants every store keeps (the conformance suite in ``tests/contract`` checks them):
- ``append`` is all-or-nothing; seqs are 1-based and contiguous per workflow id;
- a stale ``expected_seq`` raises SequenceConflictError and a stale lease epoch FencedError,
  writing nothing; a retry of an append that already landed succeeds without duplicating it;
- nothing is appended after a run's terminal event except what opens a new lease on the same
  history (the next run's ``WorkflowStarted`` after continue-as-new, a ``WorkflowReopened``);
- reads never raise for an unknown id: its history is empty;
- the visibility projection and the timer index change in the same transaction as the events;
- the suspension index holds a workflow exactly while its newest ``suspended`` lifecycle entry
  names its current run and head and that run is open: the append that moves the head drops
  it in the same transaction;
- ``schedules`` (the schedules role, ``ScheduleTable``) keeps whole schedules by id, one
  row each in the ``schedules`` table;
- definitions are opaque bytes, the newest saved per workflow type wins, and they are not
  workflows: no history, no visibility row;
- ``sql`` runs one read-only query over the store's tables and nothing else (no file, no
  setting, no write, even inside a CTE), within ``SqlLimits``; what it refuses or stops
  raises SqlRefusedError (SqlLimitError for a limit) and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from aion_ray.errors import InvalidInputError
from aion_ray.model.schedule_state import ScheduleTable
from aion_ray.model.store import (
    DEADLINE_TIMER_ID,
    SUSPENDED,
    Analytics,
    AppendRequest,
    AppendResult,
    DefinitionCatalogue,
    DueTimer,
    ExportResult,
    HistoryReader,
    HistoryWriter,
    LeaseKeeper,
    LifecycleEntry,
    LifecycleLog,
    SuspendedWorkflow,
    SuspensionIndex,
    TimerIndex,
    VisibilityIndex,
)

__all__ = [
    "DEADLINE_TIMER_ID",
    "SUSPENDED",
    "AppendRequest",
    "AppendResult",
    "DueTimer",
    "ExportResult",
    "HistoryStore",
    "LifecycleEntry",
    "SqlLimits",
    "SuspendedWorkflow",
]


@runtime_checkable
class HistoryStore(
    HistoryWriter,
    HistoryReader,
    LeaseKeeper,
    TimerIndex,
    VisibilityIndex,
    LifecycleLog,
    Analytics,
    DefinitionCatalogue,
    SuspensionIndex,
    Protocol,
):
    """Durable, append-only workflow histories plus their derived indexes."""

    @property
    def schedules(self) -> ScheduleTable:
        """The schedules role (see ``ScheduleTable``)."""
        ...

    def close(self) -> None:
        """Flush and release resources; further calls raise StoreError."""
        ...


@dataclass(frozen=True)
class SqlLimits:
    """How far one user query may go before it is stopped."""

    timeout: float = 30.0
    """Seconds a query may run (reading its result included)."""
    result_bytes: int = 256 << 20
    """Bytes of Arrow data a result may hold."""

    def __post_init__(self) -> None:
        if not self.timeout > 0 or not self.result_bytes > 0:
            raise InvalidInputError(f"SQL limits must be positive, got {self}")
