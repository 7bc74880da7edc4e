"""StoreTransport: an AsyncHost's Transport over a real store in this process, with faults.

A typed seam (``aion_ray.engine.transport.Transport``) replaced for pure-logic tests of the
AsyncHost's pump: appends and reads go to a real ``HistoryStore``; activity attempts run
inline (optionally held at a gate until a number of them wait there); child starts, signals
to other hosts and closures are kept for the test to read. Faults are scripted per batch:
``lose`` (the batch lands, then the reply raises StoreError: an unknown outcome), ``refuse``
(nothing lands, the call raises an AionError) and ``fence`` (another holder takes the lease
of the batch's first workflow just before the batch arrives).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aion_ray.engine.activities import execute_activity
from aion_ray.engine.transport import AttemptKey, Closure, Outcome
from aion_ray.errors import EngineUnavailableError, StoreError
from aion_ray.model import events as ev
from aion_ray.model.store import AppendRequest, AppendResult, SuspendedWorkflow
from aion_ray.runtime import commands as cmd
from aion_ray.storage import HistoryStore

Matcher = Callable[[AppendRequest], bool]


@dataclass
class Fault:
    """Apply ``kind`` to the next ``times`` batches holding a request ``matches`` accepts."""

    kind: str  # "lose" | "refuse" | "fence"
    matches: Matcher
    times: int = 1
    applied: int = 0


@dataclass
class Gate:
    """Holds activity attempts until ``size`` of them wait, then lets them all go at once."""

    size: int
    waiting: int = 0
    open: asyncio.Event = field(default_factory=asyncio.Event)

    async def pass_through(self) -> None:
        self.waiting += 1
        if self.waiting >= self.size:
            self.open.set()
        await self.open.wait()


class StoreTransport:
    """See the module docstring. ``batches`` holds every batch sent, faulted ones included."""

    def __init__(self, store: HistoryStore, *faults: Fault, gate: Gate | None = None) -> None:
        self.store = store
        self.faults = list(faults)
        self.gate = gate
        self.batches: list[list[AppendRequest]] = []
        self.closures: list[Closure] = []
        self.signals: list[cmd.SendSignal] = []
        self.placements: list[object] = []
        self.woken: list[str] = []
        self.unreadable = 0  # the next reads of histories that fail (the store is away)
        self.away = 0  # the next signals the control plane does not take

    async def append_batch(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        self.batches.append(list(requests))
        fault = self._fault_for(requests)
        if fault == "refuse":
            raise EngineUnavailableError("store transport", "refused by the test")
        if fault == "fence":
            self._take_lease(requests[0].workflow_id)
        results = self.store.append_batch(requests)
        if fault == "lose":
            raise StoreError("the acknowledgement was lost after the commit")
        return results

    def _fault_for(self, requests: Sequence[AppendRequest]) -> str | None:
        for fault in self.faults:
            if fault.applied < fault.times and any(fault.matches(r) for r in requests):
                fault.applied += 1
                return fault.kind
        return None

    def _take_lease(self, workflow_id: str) -> None:
        """Another holder's first append: no events, at the stored head, taking the lease."""
        head = len(self.store.read_history(workflow_id))
        [taken] = self.store.append_batch(
            [AppendRequest(workflow_id, [], head, acquire="another-host")]
        )
        assert taken.ok, taken.error

    async def read_histories(self, workflow_ids: Sequence[str]) -> dict[str, list[ev.Event]]:
        if self.unreadable:
            self.unreadable -= 1
            raise EngineUnavailableError("store transport", "away", state="unreachable")
        return {wid: self.store.read_history(wid) for wid in workflow_ids}

    async def run_activity(
        self, command: cmd.ScheduleActivity, max_bytes: int, attempt: AttemptKey
    ) -> Outcome:
        if self.gate is not None:
            await self.gate.pass_through()
        return execute_activity(command, max_bytes)

    async def start_child(
        self, parent_id: str, parent_run_id: str, command: cmd.StartChild
    ) -> None:
        raise AssertionError("these tests start no children")

    async def send_signal(self, command: cmd.SendSignal, request_id: str) -> None:
        if self.away:  # the control plane is restarting: not taken
            self.away -= 1
            raise EngineUnavailableError("aion-registry", "restarting", state="unreachable")
        self.signals.append(command)

    def closed(self, closures: Sequence[Closure]) -> None:
        self.closures.extend(closures)

    def placed(self, placements: Sequence[object], withdrawn: Sequence[object] = ()) -> None:
        """Workflows a host took without the control plane placing them: kept for the test
        (typed loosely, so this fake fits the Transport while that report takes shape)."""
        self.placements.extend(placements)

    async def suspended(self, suspensions: Sequence[SuspendedWorkflow]) -> bool:
        raise AssertionError("these hosts suspend nothing (no idle timeout)")

    def wake(self, workflow_ids: Sequence[str]) -> None:
        """A host that let workflows go asks the control plane to host them again."""
        self.woken.extend(workflow_ids)
