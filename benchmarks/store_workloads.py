"""Workflow histories for the store benchmark, and a driver that appends them from threads.

Every event is built before any clock starts, so the benchmark times the store, not pydantic.
The payloads are the "typical" small dicts the bulk-loaded synthetic rows copy (see
``store_bulk``), so sizes measured through either path are comparable.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aion_ray.model import events as ev
from aion_ray.model.ids import new_run_id, new_workflow_id
from aion_ray.model.payload import Payload, encode
from aion_ray.storage import DuckDBHistoryStore, Lease

T0 = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)
WORKFLOW_TYPE = "train_pipeline"
ACTIVITY_TYPE = "train_shard"

Batch = list[ev.Event]
Append = tuple[str, Batch]
"""One append call: (workflow id, the events it carries)."""


def started_input() -> Payload:
    return encode({"dataset": "s3://ml-data/imagenet/train", "epochs": 3})


def activity_input(activity_id: int) -> Payload:
    return encode({"shard": activity_id, "lr": 0.001})


def activity_result(activity_id: int) -> Payload:
    return encode({"loss": round(1.0 / (activity_id + 1), 4), "rows": 1000 + activity_id})


def workflow_result() -> Payload:
    return encode({"status": "ok", "model": "s3://ml-models/run/final.pt"})


class HistoryStream:
    """One workflow's events with contiguous seqs and a clock ticking 10 ms per event."""

    def __init__(self, workflow_id: str | None = None) -> None:
        self.workflow_id = workflow_id or new_workflow_id()
        self.run_id = new_run_id()
        self.seq = 0
        self.clock = T0

    def add(self, cls: type[Any], **fields: Any) -> ev.Event:
        self.seq += 1
        self.clock += timedelta(milliseconds=10)
        event: ev.Event = cls(
            workflow_id=self.workflow_id,
            run_id=self.run_id,
            seq=self.seq,
            recorded_at=self.clock,
            **fields,
        )
        return event

    def started(self) -> ev.Event:
        return self.add(ev.WorkflowStarted, workflow_type=WORKFLOW_TYPE, input=started_input())

    def scheduled(self, activity_id: int) -> ev.Event:
        return self.add(
            ev.ActivityScheduled,
            activity_id=activity_id,
            activity_type=ACTIVITY_TYPE,
            input=activity_input(activity_id),
        )

    def activity_started(self, activity_id: int) -> ev.Event:
        return self.add(ev.ActivityStarted, activity_id=activity_id, attempt=1)

    def activity_completed(self, activity_id: int) -> ev.Event:
        return self.add(
            ev.ActivityCompleted,
            activity_id=activity_id,
            attempt=1,
            result=activity_result(activity_id),
        )

    def activity(self, activity_id: int) -> Batch:
        return [
            self.scheduled(activity_id),
            self.activity_started(activity_id),
            self.activity_completed(activity_id),
        ]

    def timer(self, timer_id: int) -> Batch:
        fire_at = self.clock + timedelta(minutes=5)
        return [self.add(ev.TimerStarted, timer_id=timer_id, fire_at=fire_at)]

    def timer_fired(self, timer_id: int) -> Batch:
        return [self.add(ev.TimerFired, timer_id=timer_id)]

    def signal(self) -> Batch:
        return [
            self.add(ev.SignalReceived, name="approve", payload=encode(True), request_id="req-1")
        ]

    def completed(self) -> Batch:
        return [self.add(ev.WorkflowCompleted, result=workflow_result())]


def activity_events(stream: HistoryStream, count: int) -> Batch:
    """``count`` events of back-to-back activities (Scheduled, Started, Completed, ...)."""
    events: Batch = []
    activity_id = 0
    while len(events) < count:
        activity_id += 1
        events.extend(stream.activity(activity_id))
    return events[:count]


def chunks(events: Batch, size: int) -> list[Batch]:
    return [events[i : i + size] for i in range(0, len(events), size)]


def typical_workflow(activities: int = 3) -> list[Append]:
    """A typical history as the runtime appends it, one decision per append: start,
    activities (Scheduled+Started, then Completed), a timer started and fired, a signal,
    completion. 3 activities give 14 events in 10 appends."""
    s = HistoryStream()
    batches: list[Batch] = [[s.started()]]
    for activity_id in range(1, activities + 1):
        batches.append([s.scheduled(activity_id), s.activity_started(activity_id)])
        batches.append([s.activity_completed(activity_id)])
    batches += [s.timer(1), s.timer_fired(1), s.signal(), s.completed()]
    return [(s.workflow_id, batch) for batch in batches]


def interleave(workflows: Sequence[list[Append]]) -> list[Append]:
    """Round-robin the appends of several workflows (each keeps its own order)."""
    merged: list[Append] = []
    for step in range(max(len(w) for w in workflows)):
        merged.extend(w[step] for w in workflows if step < len(w))
    return merged


def started_workflows(
    store: DuckDBHistoryStore, workflows: int, batch: int, events: int
) -> tuple[list[list[Append]], dict[str, Lease]]:
    """Start ``workflows`` workflows in ``store``; return each one's plan of ``events``
    activity events in appends of ``batch``, and their leases."""
    streams = [HistoryStream() for _ in range(workflows)]
    setup = [[(s.workflow_id, [s.started()])] for s in streams]
    plans = [
        [(s.workflow_id, b) for b in chunks(activity_events(s, events), batch)] for s in streams
    ]
    leases = acquire_leases(store, setup)
    append_concurrently(store, setup, leases)
    return plans, leases


def acquire_leases(store: DuckDBHistoryStore, plans: Sequence[list[Append]]) -> dict[str, Lease]:
    ids = {workflow_id for plan in plans for workflow_id, _ in plan}
    return {workflow_id: store.acquire_lease(workflow_id, holder="bench") for workflow_id in ids}


@dataclass(frozen=True)
class ThreadedRun:
    """The outcome of ``append_concurrently``."""

    seconds: float
    appends: int
    events: int
    groups: int


def append_concurrently(
    store: DuckDBHistoryStore, plans: Sequence[list[Append]], leases: dict[str, Lease]
) -> ThreadedRun:
    """Run each plan on its own thread, all released at once; time until the last finishes.

    Measures durable appends only: every append returns after its group's COMMIT.
    """
    barrier = threading.Barrier(len(plans) + 1)
    errors: list[BaseException] = []

    def work(plan: list[Append]) -> None:
        barrier.wait()
        try:
            for workflow_id, batch in plan:
                store.append(
                    workflow_id, batch, expected_seq=batch[0].seq - 1, lease=leases[workflow_id]
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(plan,)) for plan in plans]
    for thread in threads:
        thread.start()
    groups_before = store._writer.groups_committed
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    if errors:
        raise errors[0]
    return _outcome(store, plans, seconds, groups_before)


def _outcome(
    store: DuckDBHistoryStore, plans: Sequence[list[Append]], seconds: float, groups_before: int
) -> ThreadedRun:
    return ThreadedRun(
        seconds=seconds,
        appends=sum(len(plan) for plan in plans),
        events=sum(len(batch) for plan in plans for _, batch in plan),
        groups=store._writer.groups_committed - groups_before,
    )


def _run_tasks(
    store: DuckDBHistoryStore,
    plans: Sequence[list[Append]],
    tasks: Callable[[], Coroutine[Any, Any, object]],
) -> ThreadedRun:
    """Time ``tasks()`` (all the workflows' appends) on a fresh event loop."""
    groups_before = store._writer.groups_committed
    start = time.perf_counter()
    asyncio.run(tasks())
    return _outcome(store, plans, time.perf_counter() - start, groups_before)


def append_concurrently_async(
    store: DuckDBHistoryStore, plans: Sequence[list[Append]], leases: dict[str, Lease]
) -> ThreadedRun:
    """Like ``append_concurrently``, with one asyncio task per plan instead of a thread, as
    the store actor serves its callers: every append awaits its group's COMMIT."""

    async def work(plan: list[Append]) -> None:
        for workflow_id, batch in plan:
            await store.append_async(
                workflow_id, batch, expected_seq=batch[0].seq - 1, lease=leases[workflow_id]
            )

    async def all_plans() -> None:
        await asyncio.gather(*(work(plan) for plan in plans))

    return _run_tasks(store, plans, all_plans)


DRIVERS = {
    "append": append_concurrently,
    "append_async": append_concurrently_async,
}
"""How the workflows call the store: a thread each, or an asyncio task each."""
