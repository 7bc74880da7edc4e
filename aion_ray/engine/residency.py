"""Residency on an AsyncHost: which hosted workflows are blocked, and suspending them.

A workflow that waits only on durable things (timers, signals, children), with everything it
recorded in the store, no attempt running and no retry pending, can leave its host: its
history holds all of it. The host suspends such a workflow after its idle timeout, or sooner
when the control plane needs room, and reports when it must wake (its next timer).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from aion_ray.engine.attempts import Attempts
from aion_ray.engine.durability import Durability
from aion_ray.engine.host import HostCore
from aion_ray.engine.host_timers import HostTimers
from aion_ray.engine.results import ResultWaits
from aion_ray.engine.transport import Transport
from aion_ray.errors import WorkflowNotFoundError
from aion_ray.model.store import SuspendedWorkflow


class Residency:
    """When each hosted workflow last did something, and letting blocked ones go."""

    def __init__(
        self,
        core: HostCore,
        transport: Transport,
        *,
        attempts: Attempts,
        timers: HostTimers,
        durability: Durability,
        results: ResultWaits,
    ) -> None:
        self.core = core
        self.transport = transport
        self.attempts = attempts
        self.timers = timers
        self.durability = durability
        self.results = results
        self._active: dict[str, float] = {}  # workflow id -> when it last did something
        self._leaving: set[str] = set()  # being suspended: the control plane is told

    def touch(self, workflow_id: str) -> None:
        """The workflow did something: its idle time starts again."""
        self._active[workflow_id] = time.monotonic()

    def forget(self, workflow_id: str) -> None:
        self._active.pop(workflow_id, None)

    def idle(self) -> dict[str, float]:
        """Seconds each blocked workflow has done nothing: open, everything it recorded is
        durable, no attempt running or retry pending; it waits only on timers, signals or
        children, which its history holds."""
        running = self.attempts.workflows()
        retrying = self.timers.waiting("retry")
        now = time.monotonic()
        return {
            workflow_id: now - self._active.get(workflow_id, now)
            for workflow_id, driver in self.core.drivers.items()
            if workflow_id not in running
            and workflow_id not in retrying
            and not self.durability.is_waited(workflow_id)
            and driver.is_open
            and driver.lease is not None
            and driver.pending.is_empty
            and self.durability.is_durable(driver)
        }

    async def suspend(self, workflow_ids: Iterable[str]) -> list[str]:
        """Stop hosting these workflows if they are still blocked, once the control plane
        has taken them (it keeps their wakes); while it cannot be reached, they stay. A
        workflow that recorded something while the control plane was being told leaves all
        the same, and is woken at once. Returns the ids suspended."""
        blocked = self.idle()
        leaving = [wid for wid in workflow_ids if wid in blocked and wid not in self._leaving]
        if not leaving:
            return []
        drivers = {wid: self.core.drivers[wid] for wid in leaving}
        suspensions = [self._suspension(wid) for wid in leaving]
        self._leaving.update(leaving)
        try:
            taken = await self.transport.suspended(suspensions)
        finally:
            self._leaving.difference_update(leaving)
        if not taken:
            return []
        # A driver replaced meanwhile (the workflow was resumed here anew) is left alone.
        gone = [
            s for s in suspensions if self.core.drivers.get(s.workflow_id) is drivers[s.workflow_id]
        ]
        moved = [s.workflow_id for s in gone if self._leave(s)]
        if moved:
            self.transport.wake(moved)
        return [s.workflow_id for s in gone]

    def _suspension(self, workflow_id: str) -> SuspendedWorkflow:
        driver = self.core.drivers[workflow_id]
        wake_at = self.timers.next_at(workflow_id)
        head = driver.recorder.head
        return SuspendedWorkflow(
            workflow_id, driver.recorder.run_id, head, self.core.holder, wake_at
        )

    def _leave(self, suspension: SuspendedWorkflow) -> bool:
        """Drop a suspended workflow; True if it took something since it was suspended
        (recorded or still queued). Callers waiting on a record of it here are told it left
        (they send it again through the control plane; its request id keeps it single)."""
        workflow_id = suspension.workflow_id
        driver = self.core.drivers[workflow_id]
        moved = driver.recorder.head != suspension.head or not driver.pending.is_empty
        self.timers.drop(workflow_id)
        self.durability.forget(workflow_id, WorkflowNotFoundError(workflow_id))
        self.core.discard(workflow_id)
        self.forget(workflow_id)
        self.results.left(workflow_id)
        return moved

    async def sweep(self, idle_timeout: float) -> None:
        """Forever: suspend the workflows that have been blocked for their idle timeout:
        their type's (``@aion.workflow(idle_timeout=...)``), else ``idle_timeout``."""
        while True:
            own = (d.hosting.idle_timeout for d in self.core.definitions.values())
            shortest = min((t for t in own if t is not None), default=idle_timeout)
            await asyncio.sleep(max(0.02, min(shortest, idle_timeout) / 4))
            due = [
                wid
                for wid, seconds in self.idle().items()
                if seconds >= self._idle_timeout(wid, idle_timeout)
            ]
            if due:
                await self.suspend(due)

    def _idle_timeout(self, workflow_id: str, default: float) -> float:
        own = self.core.drivers[workflow_id].definition.hosting.idle_timeout
        return own if own is not None else default
