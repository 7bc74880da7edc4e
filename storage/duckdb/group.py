"""One group commit: requests staged against tentative state, then written in one transaction.

Staging checks each request against the state the earlier requests of the same group left
behind, so two appends to one workflow in one group are ordered correctly. Nothing reaches
the state cache until ``publish``, which runs only after COMMIT. The transaction holds the
events, leases, timer index, suspension index and recorded lifecycle entries; the visibility
rows and the lifecycle facts observed with appends go to the ``Trail`` at publish (see
``trail``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import duckdb

from aion_ray.errors import AionError, StoreError
from aion_ray.model.events import Event
from aion_ray.model.lease import Lease
from aion_ray.model.visibility import WorkflowInfo
from aion_ray.storage.codec import EventColumns
from aion_ray.storage.contract import (
    SUSPENDED,
    AppendRequest,
    AppendResult,
    LifecycleEntry,
    SuspendedWorkflow,
)
from aion_ray.storage.duckdb.appenders import Appenders
from aion_ray.storage.duckdb.db import read_stored_events
from aion_ray.storage.duckdb.history_cache import HistoryCache
from aion_ray.storage.duckdb.known_ids import KnownIds
from aion_ray.storage.duckdb.state_cache import CachedWorkflow, StateCache
from aion_ray.storage.duckdb.suspensions import suspension_row
from aion_ray.storage.duckdb.trail import Trail, lifecycle_row
from aion_ray.storage.guard import PendingAppend, acquired_state, plan_append, retried_acquire
from aion_ray.storage.inputs import checked_id, decoded
from aion_ray.storage.suspensions import still_suspended
from aion_ray.storage.timer_index import TimerDelta


@dataclass(frozen=True, slots=True)
class Staged:
    """A request accepted into the group, and what its caller gets after COMMIT."""

    result: Any


@dataclass
class Group:
    """The tentative effect of one group of requests."""

    cache: StateCache
    con: duckdb.DuckDBPyConnection
    appenders: Appenders
    histories: HistoryCache
    known: KnownIds
    trail: Trail
    commit_id: int
    states: dict[str, CachedWorkflow] = field(default_factory=dict)
    events: dict[str, list[Event]] = field(default_factory=dict)
    columns: EventColumns = field(default_factory=EventColumns)
    timers: TimerDelta = field(default_factory=TimerDelta)
    leases: dict[str, Lease] = field(default_factory=dict)
    lifecycle: list[LifecycleEntry] = field(default_factory=list)
    """Entries recorded on their own (``record_lifecycle``): durable with the group."""
    observed: list[LifecycleEntry] = field(default_factory=list)
    """Entries that rode on appends: they trail the group."""
    suspensions: dict[str, SuspendedWorkflow | None] = field(default_factory=dict)
    """The suspension index's changes: a workflow's new row, or None to drop its row."""
    touched_infos: set[str] = field(default_factory=set)
    stored_infos: set[str] = field(default_factory=set)
    stored_leases: set[str] = field(default_factory=set)

    def current(self, workflow_id: str) -> CachedWorkflow:
        entry = self.states.get(workflow_id)
        if entry is None:
            entry = self.cache.get(workflow_id)
            trailing = self.trail.info(workflow_id)
            if trailing is not None and trailing is not entry.info:
                entry = replace(entry, info=trailing)  # reloaded from a row not yet written
            if entry.info is not None:  # stored, or waiting in the trail (which knows)
                self.stored_infos.add(workflow_id)
            if entry.state.epoch > 0:
                self.stored_leases.add(workflow_id)
        return entry

    def stage_append(self, request: PendingAppend, rows: EventColumns | None = None) -> Staged:
        """Check an append against the group's state and stage its encoded rows if accepted
        (``rows``: the caller's own encoding of the same events)."""
        workflow_id, expected = request.workflow_id, request.expected_seq
        entry = self.current(workflow_id)
        if expected < entry.state.head and request.already_stored(
            self._stored_from(workflow_id, expected + 1)
        ):
            return Staged(expected + len(request.events))
        # Encoded before anything of the group changes: an event that cannot be encoded then
        # fails its own append only, instead of leaving the group's columns uneven.
        if rows is None:
            rows = EventColumns.of(request.events)
        plan = plan_append(
            request,
            entry.state,
            entry.info,
            self.timers,
            lambda: [*self._stored_from(workflow_id, 1), *request.events],
        )
        entry = replace(entry, state=plan.state, info=plan.info)
        if entry.suspended and request.events:  # the suspension is no longer the last word
            entry = replace(entry, suspended=False)
            self.suspensions[workflow_id] = None
        self.states[workflow_id] = entry
        self.events.setdefault(workflow_id, []).extend(request.events)
        self.columns.extend(rows)
        if plan.info_changed:
            self.touched_infos.add(workflow_id)
        return Staged(plan.state.head)

    def stage_batch(self, requests: Sequence[AppendRequest]) -> Staged:
        """Stage many workflows' requests; each is checked on its own and a refused one
        changes nothing of the group. The caller gets one AppendResult per request."""
        return Staged([self._stage_request(request) for request in requests])

    def _stage_request(self, request: AppendRequest) -> AppendResult:
        workflow_id = request.workflow_id
        saved = self.states.get(workflow_id), self.leases.get(workflow_id)
        try:
            events, rows = decoded(request)
            self._look_up_suspended(request.lifecycle)  # a failed lookup refuses this one
            lease, fresh = request.lease, False
            if request.acquire is not None:
                lease, fresh = self._acquiring_lease(request, len(events))
            assert lease is not None  # checked_requests: a lease or an acquire holder
            pending = PendingAppend.of(workflow_id, events, request.expected_seq, lease)
            head = self.stage_append(pending, rows).result
        except Exception as exc:  # a refusal, or a bug or corrupt row: this request fails alone
            self._restore(workflow_id, *saved)
            error = (
                exc
                if isinstance(exc, AionError)
                else StoreError(f"request could not be checked: {exc!r}")
            )
            return AppendResult(error=error)
        if fresh or request.acquire is None:  # a recognised retry logged its rows already
            self.observed.extend(request.lifecycle)
            self._index(request.lifecycle)
        return AppendResult(head=head, lease=lease)

    def _acquiring_lease(self, request: AppendRequest, events: int) -> tuple[Lease, bool]:
        """The lease an acquiring request appends under, and whether it is a new one."""
        workflow_id, holder = request.workflow_id, request.acquire or ""
        state = self.current(checked_id(workflow_id)).state
        if retried_acquire(request.expected_seq, events, state):
            return Lease(workflow_id=workflow_id, epoch=state.epoch, holder=holder), False
        acquired_state(workflow_id, request.expected_seq, state)
        return self.stage_lease(workflow_id, holder).result, True

    def _restore(self, workflow_id: str, state: CachedWorkflow | None, lease: Lease | None) -> None:
        """Undo a refused request's staged lease (its append staged nothing)."""
        if state is None:
            self.states.pop(workflow_id, None)
        else:
            self.states[workflow_id] = state
        if lease is None:
            self.leases.pop(workflow_id, None)
        else:
            self.leases[workflow_id] = lease

    @property
    def has_events(self) -> bool:
        return len(self.columns) > 0

    def stage_lease(self, workflow_id: str, holder: str) -> Staged:
        entry = self.current(workflow_id)
        state = replace(entry.state, epoch=entry.state.epoch + 1)
        self.states[workflow_id] = replace(entry, state=state)
        lease = Lease(workflow_id=workflow_id, epoch=state.epoch, holder=holder)
        self.leases[workflow_id] = lease
        return Staged(lease)

    def stage_lifecycle(self, entries: Sequence[LifecycleEntry]) -> Staged:
        self._look_up_suspended(entries)  # a failed lookup stages none of them
        self.lifecycle.extend(entries)
        self._index(entries)
        return Staged(None)

    def _look_up_suspended(self, entries: Sequence[LifecycleEntry]) -> None:
        """Load the state of each workflow a suspension among ``entries`` names, before
        anything is staged: ``_index`` then reads the group's state only."""
        for entry in entries:
            if entry.kind == SUSPENDED:
                self.current(entry.workflow_id)

    def _index(self, entries: Sequence[LifecycleEntry]) -> None:
        """Index the suspensions among ``entries`` that still describe their workflow."""
        for entry in entries:
            if entry.kind != SUSPENDED:
                continue
            current = self.current(entry.workflow_id)
            suspended = still_suspended(entry, current.state)
            if suspended is not None:
                self.suspensions[entry.workflow_id] = suspended
                self.states[entry.workflow_id] = replace(current, suspended=True)

    def _stored_from(self, workflow_id: str, from_seq: int) -> list[Event]:
        stored = read_stored_events(self.con, workflow_id, from_seq)
        return stored + [e for e in self.events.get(workflow_id, []) if e.seq >= from_seq]

    def write(self) -> None:
        """Write everything staged in one transaction; on any error nothing is written and
        nothing stays buffered for a later group."""
        # Known before COMMIT: whatever strikes after it, a stored id is never "certainly
        # absent" (an id that stays unwritten only costs its lookups a query).
        self.known.add_all(self.leases)
        try:
            self._buffer(self.appenders)
            self.appenders.flush()
        except Exception:
            self.appenders.discard()
            raise

    def _buffer(self, appenders: Appenders) -> None:
        # A workflow with no index rows before this group has nothing to clear: its own
        # rows staged before a clear were already dropped from the delta.
        cleared = (wid for wid in self.timers.cleared if self.states[wid].indexed)
        appenders.add("timers_clear", ((wid,) for wid in cleared))
        appenders.add("timers_remove", self._replaced_timer_keys())
        appenders.add_events(self.columns, self.commit_id)
        appenders.add(
            "timers_insert",
            (
                (t.workflow_id, t.run_id, t.timer_id, t.fire_at)
                for t in self.timers.changes.values()
                if t is not None
            ),
        )
        leases = [(lease.workflow_id, lease.epoch, lease.holder) for lease in self.leases.values()]
        appenders.add("leases_insert", (row for row in leases if row[0] not in self.stored_leases))
        appenders.add("leases_update", (row for row in leases if row[0] in self.stored_leases))
        appenders.add("lifecycle", (lifecycle_row(entry) for entry in self.lifecycle))
        # Dropped first, then inserted: a replaced row goes both ways.
        appenders.add("suspensions_remove", ((wid,) for wid in self.suspensions))
        appenders.add(
            "suspensions_insert",
            (suspension_row(s) for s in self.suspensions.values() if s is not None),
        )

    def _replaced_timer_keys(self) -> list[tuple[str, int]]:
        """Index rows to delete before the inserts: removed ones, and stored retry times that
        an insert replaces (a local activity's retry start and its next failure can land in
        one group: the delta then holds only the new retry time, yet the old row is stored).
        Timer ids and the deadline are never reused within a run, so only retries replace."""
        cleared = self.timers.cleared
        return [
            key
            for key, timer in self.timers.changes.items()
            if timer is None
            or (key[1] < 0 and self.states[key[0]].indexed and key[0] not in cleared)
        ]

    def abandon(self) -> None:
        """After a failed write: forget cached state that may have been half-observed."""
        for workflow_id in self.states:
            self.cache.drop(workflow_id)
        for workflow_id in self.events:
            self.histories.forget(workflow_id)

    def publish(self) -> None:
        inserted = {key[0] for key, timer in self.timers.changes.items() if timer is not None}
        cleared = self.timers.cleared
        for workflow_id, entry in self.states.items():
            indexed = (entry.indexed and workflow_id not in cleared) or workflow_id in inserted
            if indexed != entry.indexed:
                entry = replace(entry, indexed=indexed)
            self.cache.put(workflow_id, entry)
        for workflow_id, events in self.events.items():
            self.histories.extend(workflow_id, events)
        # Only a group with events takes its commit id (GroupCommitter._write): an event-less
        # one must not move the visibility watermark past commits still to come.
        self.trail.add(self.commit_id if self.has_events else 0, self._visibility(), self.observed)

    def _visibility(self) -> dict[str, tuple[WorkflowInfo, bool]]:
        """The changed visibility of each touched workflow, and whether it had a row."""
        touched = ((wid, self.states[wid].info) for wid in self.touched_infos)
        return {wid: (info, wid in self.stored_infos) for wid, info in touched if info is not None}
