"""InMemoryHistoryStore: the reference implementation of the HistoryStore protocol.

Plain dicts behind one lock. It keeps every rule of the protocol (it runs the same conformance
suite as the DuckDB store) and answers SQL by handing its tables to an in-process DuckDB, so
tests and ``aion_ray.testing`` users get the same behaviour without a file.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from aion_ray.errors import AionError, StoreError
from aion_ray.model.events import Event
from aion_ray.model.lease import Lease
from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo, matches
from aion_ray.storage import export
from aion_ray.storage.contract import (
    AppendRequest,
    AppendResult,
    DueTimer,
    ExportResult,
    LifecycleEntry,
    SqlLimits,
    SuspendedWorkflow,
)
from aion_ray.storage.definitions import InMemoryCatalogue, checked_definition, checked_types
from aion_ray.storage.guard import (
    HeadState,
    PendingAppend,
    acquired_state,
    plan_append,
    retried_acquire,
)
from aion_ray.storage.inputs import (
    checked_entries,
    checked_filter,
    checked_id,
    checked_requests,
    checked_seq,
    checked_time,
    decoded,
)
from aion_ray.storage.memory_tables import events_table, lifecycle_row, run_sql
from aion_ray.storage.schedules import InMemorySchedules
from aion_ray.storage.schema import LIFECYCLE_ARROW, TIMERS_ARROW, WORKFLOWS_ARROW
from aion_ray.storage.suspensions import checked_page, page, still_suspended
from aion_ray.storage.timer_index import TimerDelta, TimerKey, derived_from_history
from aion_ray.storage.visibility_rows import filter_page, workflow_row


class InMemoryHistoryStore:
    """Every role of the HistoryStore protocol, in memory."""

    def __init__(self, *, sql_limits: SqlLimits | None = None) -> None:
        self._sql_limits = sql_limits
        self._lock = threading.RLock()
        self._histories: dict[str, list[Event]] = {}
        self._states: dict[str, HeadState] = {}
        self._infos: dict[str, WorkflowInfo] = {}
        self._timers: dict[TimerKey, DueTimer] = {}
        self._lifecycle: list[LifecycleEntry] = []
        self._suspended: dict[str, SuspendedWorkflow] = {}
        self._catalogue = InMemoryCatalogue()
        self.schedules = InMemorySchedules(self._lock, self._check_open)
        self._log: list[tuple[int, Event]] = []
        self._commit_id = self._exported_commit_id = 0
        self._closed = False

    def append(
        self, workflow_id: str, events: Sequence[Event], *, expected_seq: int, lease: Lease
    ) -> int:
        request = PendingAppend.of(workflow_id, events, expected_seq, lease)
        with self._lock:
            self._check_open()
            return self._append(request, self._states.get(workflow_id, HeadState()))

    def append_batch(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        checked = checked_requests(requests)
        with self._lock:
            self._check_open()
            return [self._append_request(request) for request in checked]

    async def append_batch_async(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        """``append_batch`` for asyncio callers (in memory there is nothing to wait for)."""
        return self.append_batch(requests)

    def _append_request(self, request: AppendRequest) -> AppendResult:
        """One request of a batch, all or nothing; its error is returned, not raised."""
        workflow_id = request.workflow_id
        try:
            state = self._states.get(checked_id(workflow_id), HeadState())
            events, _ = decoded(request)
            fresh = request.acquire is not None and not retried_acquire(
                request.expected_seq, len(events), state
            )
            if fresh:
                state = acquired_state(workflow_id, request.expected_seq, state)
            lease = request.lease or Lease(
                workflow_id=workflow_id, epoch=state.epoch, holder=request.acquire or ""
            )
            pending = PendingAppend.of(workflow_id, events, request.expected_seq, lease)
            head = self._append(pending, state)
        except AionError as exc:
            return AppendResult(error=exc)
        except Exception as exc:  # a bug or a corrupt row: this request fails alone
            return AppendResult(error=StoreError(f"request could not be checked: {exc!r}"))
        if fresh:  # an acquiring request takes its lease even if empty
            self._states[workflow_id] = replace(
                self._states.get(workflow_id, state), epoch=lease.epoch
            )
        if fresh or request.acquire is None:  # a recognised retry logged its rows already
            self._log_lifecycle(request.lifecycle)
        return AppendResult(head=head, lease=lease)

    def _append(self, request: PendingAppend, state: HeadState) -> int:
        """Check ``request`` against ``state`` and commit it (the lock is held)."""
        workflow_id, expected_seq = request.workflow_id, request.expected_seq
        history = self._histories.get(workflow_id, [])
        if request.already_stored(history[expected_seq:]):
            return expected_seq + len(request.events)
        timers = TimerDelta()
        plan = plan_append(
            request,
            state,
            self._infos.get(workflow_id),
            timers,
            lambda: [*history, *request.events],
        )
        self._commit(request, plan.state, plan.info, timers)
        return plan.state.head

    def _commit(
        self,
        request: PendingAppend,
        state: HeadState,
        info: WorkflowInfo | None,
        timers: TimerDelta,
    ) -> None:
        if not request.events:
            return
        self._commit_id += 1
        self._histories.setdefault(request.workflow_id, []).extend(request.events)
        self._log.extend((self._commit_id, event) for event in request.events)
        self._states[request.workflow_id] = state
        self._suspended.pop(request.workflow_id, None)  # its suspension is no longer the last word
        if info is not None:
            self._infos[request.workflow_id] = info
        for key in [key for key in self._timers if key[0] in timers.cleared]:
            del self._timers[key]
        for key, timer in timers.changes.items():
            if timer is None:
                self._timers.pop(key, None)
            else:
                self._timers[key] = timer

    async def append_async(
        self, workflow_id: str, events: Sequence[Event], *, expected_seq: int, lease: Lease
    ) -> int:
        """``append`` for asyncio callers (in memory there is nothing to wait for)."""
        return self.append(workflow_id, events, expected_seq=expected_seq, lease=lease)

    def read_history(self, workflow_id: str, from_seq: int = 1) -> list[Event]:
        workflow_id, from_seq = checked_id(workflow_id), checked_seq(from_seq)
        with self._lock:
            self._check_open()
            return list(self._histories.get(workflow_id, [])[max(from_seq, 1) - 1 :])

    def acquire_lease(self, workflow_id: str, *, holder: str = "") -> Lease:
        workflow_id = checked_id(workflow_id)
        with self._lock:
            self._check_open()
            state = self._states.get(workflow_id, HeadState())
            state = replace(state, epoch=state.epoch + 1)
            self._states[workflow_id] = state
            return Lease(workflow_id=workflow_id, epoch=state.epoch, holder=holder)

    def due_timers(self, as_of: datetime, *, limit: int = 1000) -> list[DueTimer]:
        as_of, limit = checked_time(as_of, limit)
        with self._lock:
            self._check_open()
            due = [t for t in self._timers.values() if t.fire_at <= as_of]
        due.sort(key=lambda t: (t.fire_at, t.workflow_id, t.timer_id))
        return due[:limit]

    def workflow_info(self, workflow_id: str) -> WorkflowInfo | None:
        workflow_id = checked_id(workflow_id)
        with self._lock:
            self._check_open()
            return self._infos.get(workflow_id)

    def list_workflows(self, flt: WorkflowFilter | None = None) -> list[WorkflowInfo]:
        flt = checked_filter(flt)
        with self._lock:
            self._check_open()
            found = [info for info in self._infos.values() if matches(info, flt)]
        found.sort(key=lambda info: (info.started_at, info.workflow_id))
        return filter_page(found, flt)

    def count_workflows(self, flt: WorkflowFilter | None = None) -> int:
        flt = checked_filter(flt)
        with self._lock:
            self._check_open()
            return sum(1 for info in self._infos.values() if matches(info, flt))

    def record_lifecycle(self, entries: Sequence[LifecycleEntry]) -> None:
        checked = checked_entries(entries)
        with self._lock:
            self._check_open()
            self._log_lifecycle(checked)

    def _log_lifecycle(self, entries: Sequence[LifecycleEntry]) -> None:
        """Log checked entries and index the suspensions among them (the lock is held)."""
        self._lifecycle.extend(entries)
        for entry in entries:
            state = self._states.get(entry.workflow_id, HeadState())
            suspended = still_suspended(entry, state)
            if suspended is not None:
                self._suspended[entry.workflow_id] = suspended

    def suspended_workflows(
        self, *, after: str | None = None, limit: int | None = None
    ) -> list[SuspendedWorkflow]:
        after, limit = checked_page(after, limit)
        with self._lock:
            self._check_open()
            return page(self._suspended.values(), after, limit)

    def save_definition(self, workflow_type: str, fingerprint: str, blob: bytes) -> None:
        data = checked_definition(workflow_type, fingerprint, blob)
        with self._lock:
            self._check_open()
            self._catalogue.save(workflow_type, fingerprint, data)

    def load_definitions(self, workflow_types: Iterable[str]) -> dict[str, bytes]:
        names = checked_types(workflow_types)
        with self._lock:
            self._check_open()
            return self._catalogue.load(names)

    def read_lifecycle(self, workflow_id: str) -> list[LifecycleEntry]:
        workflow_id = checked_id(workflow_id)
        with self._lock:
            self._check_open()
            return [entry for entry in self._lifecycle if entry.workflow_id == workflow_id]

    def rebuild_visibility(self) -> int:
        with self._lock:
            self._check_open()
            self._infos, self._timers = {}, {}
            for workflow_id, history in self._histories.items():
                info, timers = derived_from_history(history)
                if info is not None:
                    self._infos[workflow_id] = info
                self._timers.update(((workflow_id, t.timer_id), t) for t in timers)
            return len(self._infos)

    def sql(self, query: str) -> pa.Table:
        return run_sql({**self._tables(), **self.schedules.tables()}, query, self._sql_limits)

    def export_parquet(self, directory: str | Path) -> ExportResult:
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._check_open()
            since = self._exported_commit_id
            tables = self._tables(since_commit=since)
            name, rows = export.write_events(tables["events"].to_batches(), target)
            files = ([name] if name else []) + export.write_snapshots(tables, target)
            self._exported_commit_id = self._commit_id
        return ExportResult(directory=str(target), files=tuple(files), events_exported=rows)

    def _tables(self, since_commit: int = 0) -> dict[str, pa.Table]:
        with self._lock:
            self._check_open()
            log = [(cid, e) for cid, e in self._log if cid > since_commit]
            infos = sorted(self._infos.values(), key=lambda i: (i.started_at, i.workflow_id))
            lifecycle = list(self._lifecycle)
            timers = list(self._timers.values())
        return {
            "events": events_table(log),
            "workflows": pa.Table.from_pylist([workflow_row(i) for i in infos], WORKFLOWS_ARROW),
            "lifecycle": pa.Table.from_pylist(
                [lifecycle_row(entry) for entry in lifecycle], LIFECYCLE_ARROW
            ),
            "timers": pa.Table.from_pylist([t.model_dump() for t in timers], TIMERS_ARROW),
        }

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the history store is closed")
