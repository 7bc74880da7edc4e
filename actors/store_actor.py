"""HistoryStoreActor: the one process that opens the DuckDB file, serving every other actor.

Created with ``max_task_retries=-1`` (``connect``): calls made while it restarts wait for the
new instance, and calls its death interrupted are sent to it again. Every method can be
repeated without harm (an append already stored is recognised as such; at worst a lifecycle
row, a log line, is written twice), but a user's query or export is not repeated: it may be
what killed the store.

A thin shell over ``DuckDBHistoryStore``. Appends arrive in batches (``append_batch``: many
workflows' activations per call, events already encoded by the caller) and are acknowledged
after COMMIT by the store's group commit, whose writer thread keeps this actor's event loop
free; leases are taken inside those batches (``AppendRequest.acquire``), never by a blocking
call. Reads come from the store's history cache when they can; reads that show visibility
or lifecycle rows run in a thread, since they first write whatever still trails; so do the
definitions catalogue and the suspension index (a save waits for the writer, and a listing of
many suspended workflows takes a while to build).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import statistics
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import ray

from aion_ray.actors.counting import counted
from aion_ray.actors.metrics import RayMetrics
from aion_ray.errors import StoreError
from aion_ray.model.events import Event
from aion_ray.model.health import StoreHealth
from aion_ray.model.schedule_state import StoredSchedule
from aion_ray.model.store import (
    AppendRequest,
    AppendResult,
    DueTimer,
    LifecycleEntry,
    SuspendedWorkflow,
)
from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo
from aion_ray.storage.duckdb.store import DuckDBHistoryStore

RECENT_APPENDS = 256
"""Appends whose times ``health`` reports the median of."""


@counted
class HistoryStoreActor:
    """Ray actor (async, detached, ``num_cpus=0``) owning ``DuckDBHistoryStore(path)``."""

    def __init__(self, path: str, store_id: str | None = None) -> None:
        """Open the store file at ``path``, which must be the store ``store_id`` (connect
        created it and passes its id; Ray passes the same to a restart, on whatever node).
        A file that will not open leaves the actor up answering every call with the
        StoreError that says why: raising here would have Ray restart it without end."""
        self._opened = _open(path, store_id)
        self.path = path
        self.calls: collections.Counter[str] = collections.Counter()  # for benchmarks
        self._recent: collections.deque[float] = collections.deque(maxlen=RECENT_APPENDS)
        self.metrics = RayMetrics()

    @property
    def store(self) -> DuckDBHistoryStore:
        """The open store (the StoreError that kept it from opening, raised, if none)."""
        if isinstance(self._opened, StoreError):
            raise self._opened
        return self._opened

    async def ping(self) -> str:
        """The path served (the StoreError of an open that failed)."""
        return self.store.path

    async def append_batch(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        self.calls["appends"] += len(requests)
        began = time.perf_counter()
        results = await self.store.append_batch_async(requests)
        took = time.perf_counter() - began
        self.calls["append_us"] += int(took * 1e6)
        self._recent.append(took)
        self.metrics.commit(took, len(requests))
        return results

    async def read_history(self, workflow_id: str, from_seq: int = 1) -> list[Event]:
        return self.store.read_history(workflow_id, from_seq)

    async def read_histories(self, workflow_ids: Sequence[str]) -> dict[str, list[Event]]:
        """Many histories in one call (a resume of several workflows)."""
        return {wid: self.store.read_history(wid) for wid in workflow_ids}

    async def workflow_info(self, workflow_id: str) -> WorkflowInfo | None:
        return self.store.workflow_info(workflow_id)

    async def list_workflows(self, flt: WorkflowFilter | None = None) -> list[WorkflowInfo]:
        return await asyncio.to_thread(self.store.list_workflows, flt)

    async def count_workflows(self, flt: WorkflowFilter | None = None) -> int:
        return await asyncio.to_thread(self.store.count_workflows, flt)

    async def due_timers(self, as_of: datetime, limit: int = 1000) -> list[DueTimer]:
        return self.store.due_timers(as_of, limit=limit)

    async def read_lifecycle(self, workflow_id: str) -> list[LifecycleEntry]:
        return await asyncio.to_thread(self.store.read_lifecycle, workflow_id)

    async def record_lifecycle(self, entries: Sequence[LifecycleEntry]) -> None:
        # A plain lifecycle write commits on the writer thread: wait for it off the loop.
        await asyncio.to_thread(self.store.record_lifecycle, entries)

    async def save_definition(self, workflow_type: str, fingerprint: str, blob: bytes) -> None:
        await asyncio.to_thread(self.store.save_definition, workflow_type, fingerprint, blob)

    async def load_definitions(self, workflow_types: Sequence[str]) -> dict[str, bytes]:
        return await asyncio.to_thread(self.store.load_definitions, workflow_types)

    async def suspended_workflows(
        self, after: str | None = None, limit: int | None = None
    ) -> list[SuspendedWorkflow]:
        return await asyncio.to_thread(self.store.suspended_workflows, after=after, limit=limit)

    async def put_schedule(self, schedule: StoredSchedule) -> None:
        await asyncio.to_thread(self.store.schedules.put_schedule, schedule)

    async def list_schedules(
        self, after: str | None = None, limit: int | None = None
    ) -> list[StoredSchedule]:
        schedules = self.store.schedules
        return await asyncio.to_thread(schedules.list_schedules, after=after, limit=limit)

    async def put_schedules(self, schedules: Sequence[StoredSchedule]) -> None:
        """Store many schedules (a firing round's) in one call, off the loop."""

        await asyncio.to_thread(self.store.schedules.put_schedules, schedules)

    async def workflow_infos(self, workflow_ids: Sequence[str]) -> list[WorkflowInfo | None]:
        """``workflow_info`` of many workflows in one call, off the loop."""
        return await asyncio.to_thread(lambda: [self.store.workflow_info(w) for w in workflow_ids])

    async def delete_schedule(self, schedule_id: str) -> bool:
        return await asyncio.to_thread(self.store.schedules.delete_schedule, schedule_id)

    @ray.method(max_task_retries=0)
    async def sql(self, query: str) -> Any:
        """Not sent again by Ray if the store dies under it: it may be what killed it."""
        return await asyncio.to_thread(self.store.sql, query)

    @ray.method(max_task_retries=0)
    async def export_parquet(self, directory: str) -> Any:
        return await asyncio.to_thread(self.store.export_parquet, directory)

    async def stats(self) -> dict[str, int]:
        """Calls taken, by method (``appends``: append requests in them; ``append_us``:
        microseconds spent awaiting their group commits)."""
        return dict(self.calls)

    async def health(self) -> StoreHealth:
        """The file, its size (with its write-ahead log), and the median of the recent
        appends' times until COMMIT (a store that failed to open: why)."""
        if isinstance(self._opened, StoreError):
            return StoreHealth(False, self.path, error=str(self._opened))
        size = sum(os.path.getsize(f) for f in (self.path, self.path + ".wal") if os.path.exists(f))
        recent = statistics.median(self._recent) * 1000 if self._recent else None
        return StoreHealth(True, self.path, size, recent, self.calls["appends"])

    async def close(self) -> None:
        if not isinstance(self._opened, StoreError):  # a store that failed to open has none
            self._opened.close()


def _open(path: str, store_id: str | None) -> DuckDBHistoryStore | StoreError:
    try:
        return DuckDBHistoryStore(path, store_id=store_id)
    except StoreError as exc:
        logging.getLogger(__name__).error("the store does not open: %s", exc)
        return exc
