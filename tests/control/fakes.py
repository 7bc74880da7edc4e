"""Fakes behind the control plane's typed seams (``aion_ray.control.ports``): hosts whose
behaviour a test sets, a fleet that makes them, timers on a fake clock. The store is the real
in-memory reference store, wrapped in the Store port."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.control.code import missing
from aion_ray.control.ports import HostDied, Resumed
from aion_ray.engine.capacity import Slot
from aion_ray.engine.recorder import EventDraft, Recorder
from aion_ray.engine.transport import Placed
from aion_ray.errors import HostFullError, WorkflowNotFoundError
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.history import WorkflowStatus, current_run, current_terminal
from aion_ray.model.payload import Payload
from aion_ray.model.store import AppendRequest, LifecycleEntry
from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo
from aion_ray.storage.memory import InMemoryHistoryStore
from aion_ray.testing.clock import FakeClock


class FakeTimers:
    """``call_later`` on a fake clock: callbacks run when ``advance`` passes their time."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self._due: list[tuple[datetime, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        at = self.clock.now() + timedelta(seconds=delay)
        heapq.heappush(self._due, (at, next(self._order), callback))

    async def advance(self, seconds: float) -> None:
        """Move the clock, running each callback that falls due (and the tasks it starts)."""
        target = self.clock.now() + timedelta(seconds=seconds)
        while self._due and self._due[0][0] <= target:
            at, _, callback = heapq.heappop(self._due)
            self.clock.set(at)
            callback()
            await settle()
        self.clock.set(target)
        await settle()


async def settle() -> None:
    """Let every task that can run, run (the fakes answer at once)."""
    for _ in range(50):
        await asyncio.sleep(0)


class FakeHost:
    """A host whose answers the test controls; starts and resumes go to the real store."""

    def __init__(self, name: str, store: InMemoryHistoryStore, clock: FakeClock) -> None:
        self.name = name
        self.store = store
        self.clock = clock
        self.hosted: set[str] = set()
        self.blocked: dict[str, float] = {}  # what ``idle`` answers
        self.suspensions: list[list[str]] = []
        self.signals: list[tuple[str, str]] = []
        self.children: list[tuple[str, int, ev.Event]] = []
        self.dead = False
        self.stopped = False
        self.direct: list[Placed] = []  # workflows clients started here (the test says so)
        self.runs: dict[str, Placed] = {}  # what the control plane placed here
        self.resumes = 0

    def _alive(self) -> None:
        if self.dead:
            raise HostDied(self.name)

    async def start(
        self,
        definition: WorkflowDefinition[Any],
        workflow_id: str,
        started: EventDraft,
        run_id: str,
        slot: Slot,
    ) -> None:
        self._alive()
        self._room(slot)
        events = Recorder(workflow_id, self.clock, []).stamp([started], run_id=run_id)
        request = AppendRequest(workflow_id, events, expected_seq=0, acquire=self.name)
        [result] = self.store.append_batch([request])
        if result.error is not None:
            raise result.error
        self.hosted.add(workflow_id)
        self.runs[workflow_id] = Placed(workflow_id, run_id, definition.name, slot)

    async def resume(
        self,
        definitions: Sequence[WorkflowDefinition[Any]],
        workflow_ids: Sequence[str],
        slot: Slot,
    ) -> Resumed:
        self._alive()
        self._room(slot)
        self.resumes += 1
        outcome: Resumed = {}
        for workflow_id in workflow_ids:
            history = self.store.read_history(workflow_id)
            terminal = current_terminal(history)
            if not history:
                outcome[workflow_id] = None
            elif terminal is not None and not isinstance(terminal, ev.WorkflowContinuedAsNew):
                outcome[workflow_id] = terminal
            else:
                self.hosted.add(workflow_id)
                started = current_run(history)[0]
                outcome[workflow_id] = started.run_id
                self.runs[workflow_id] = Placed(workflow_id, started.run_id, _type(history), slot)
        return outcome

    def _room(self, slot: Slot) -> None:
        if len(self.hosted) + len(self.direct) >= slot[1]:
            raise HostFullError(self.name, len(self.hosted))

    async def placements(self) -> list[Placed]:
        self._alive()
        placed = [self.runs[wid] for wid in sorted(self.hosted) if wid in self.runs]
        return list(self.direct) + placed

    async def signal(self, workflow_id: str, name: str, payload: Payload, request_id: str) -> None:
        self._alive()
        if workflow_id not in self.hosted:
            raise WorkflowNotFoundError(workflow_id)
        self.signals.append((workflow_id, name))

    async def cancel(self, workflow_id: str, reason: str) -> bool:
        self._alive()
        if workflow_id not in self.hosted:
            raise WorkflowNotFoundError(workflow_id)
        return True

    async def terminate(self, workflow_id: str, reason: str) -> None:
        self._alive()
        if workflow_id not in self.hosted:
            raise WorkflowNotFoundError(workflow_id)

    async def hold(self, workflow_id: str, reason: str | None) -> None:
        await self.terminate(workflow_id, "")  # the same checks: alive, hosted here

    async def query(self, workflow_id: str, name: str, args: Sequence[Any]) -> Any:
        self._alive()
        if workflow_id not in self.hosted:
            raise WorkflowNotFoundError(workflow_id)
        return f"{name} of {workflow_id}"

    async def idle(self) -> dict[str, float]:
        self._alive()
        return {wid: s for wid, s in self.blocked.items() if wid in self.hosted}

    def suspend(self, workflow_ids: Sequence[str]) -> None:
        self.suspensions.append(list(workflow_ids))

    def child_finished(self, workflow_id: str, child_id: int, terminal: ev.Event) -> None:
        self.children.append((workflow_id, child_id, terminal))

    def child_not_started(self, workflow_id: str, child_id: int, error: ErrorInfo) -> None:
        pass

    def stop(self) -> None:
        self.stopped = True


class FakeFleet:
    """Makes FakeHosts (``fail`` makes the next spawns raise)."""

    def __init__(self, store: InMemoryHistoryStore, clock: FakeClock) -> None:
        self.store = store
        self.clock = clock
        self.hosts: dict[str, FakeHost] = {}
        self.fail = 0

    async def running(self) -> list[FakeHost]:
        return [h for h in self.hosts.values() if not h.dead and not h.stopped]

    async def spawn(self, name: str) -> FakeHost:
        if self.fail:
            self.fail -= 1
            raise RuntimeError("no room on the cluster")
        host = FakeHost(name, self.store, self.clock)
        self.hosts[name] = host
        return host


class MemoryStore:
    """The Store port over the in-memory reference store."""

    def __init__(self, store: InMemoryHistoryStore) -> None:
        self.store = store
        self.parked: dict[str, datetime | None] = {}
        self.definitions: dict[str, WorkflowDefinition[Any]] = {}
        self.broken: dict[str, ErrorInfo] = {}  # types whose code "does not load"
        self.saves = 0

    async def read_history(self, workflow_id: str) -> list[ev.Event]:
        return self.store.read_history(workflow_id)

    async def append_as_holder(
        self, workflow_id: str, events: Sequence[ev.Event], head: int
    ) -> None:
        request = AppendRequest(workflow_id, events, expected_seq=head, acquire="aion-registry")
        [result] = self.store.append_batch([request])
        if result.error is not None:
            raise result.error

    async def record_lifecycle(self, entries: Sequence[LifecycleEntry]) -> None:
        self.store.record_lifecycle(entries)

    async def running(self) -> list[WorkflowInfo]:
        flt = WorkflowFilter(status=(WorkflowStatus.RUNNING, WorkflowStatus.PAUSED))
        return self.store.list_workflows(flt)

    async def suspended(self) -> dict[str, datetime | None]:
        return dict(self.parked)

    async def save_definition(self, definition: WorkflowDefinition[Any]) -> None:
        await asyncio.sleep(0)  # a store round trip: other starts run meanwhile
        self.saves += 1
        self.definitions[definition.name] = definition

    async def load_definitions(
        self, workflow_types: Sequence[str]
    ) -> dict[str, WorkflowDefinition[Any] | ErrorInfo]:
        """Like the Ray port: a type this store keeps no code for, or listed in ``broken``
        (its code does not load here), comes back as the reason."""
        found: dict[str, WorkflowDefinition[Any] | ErrorInfo] = {}
        for t in workflow_types:
            definition = self.definitions.get(t)
            found[t] = self.broken.get(t) or definition or missing(t)
        return found


def _type(history: Sequence[ev.Event]) -> str:
    started = history[0]
    assert isinstance(started, ev.WorkflowStarted)
    return started.workflow_type
