"""The wakes an AsyncHost's drivers ask for (timers, retry backoffs, run deadlines, heartbeat
timeouts), as timers of the running event loop.

A Ray-task attempt's heartbeat timeout counts from when its worker starts running it (the
task says so: ``started``), not from dispatch: a cold worker on a loaded node can take
seconds to start, and an attempt must not time out before it ran. Until then that wake is
kept, with its time, but not timed; the attempt's start-to-close ``timeout`` still bounds an
attempt whose worker never starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from aion_ray.engine.driver import WorkflowDriver
from aion_ray.model.clock import Clock
from aion_ray.model.store import WakeKey

Key = tuple[str, WakeKey]
"""(workflow id, wake)."""


class HostTimers:
    """Armed wakes by (workflow id, wake); ``fire`` is called with the driver when one falls
    due (the caller checks that the driver is still current)."""

    def __init__(self, clock: Clock, fire: Callable[[WorkflowDriver, WakeKey], None]) -> None:
        self._clock = clock
        self._fire = fire
        self._armed: dict[Key, tuple[datetime, WorkflowDriver, asyncio.TimerHandle | None]] = {}

    def arm(self, driver: WorkflowDriver, key: WakeKey, at: datetime, timed: bool = True) -> None:
        """Wake ``driver`` at ``at`` (``timed`` False: kept, not timed, until ``started``)."""
        self.disarm(driver.workflow_id, key)
        handle = None
        if timed:
            delay = max(0.0, (at - self._clock.now()).total_seconds())
            handle = asyncio.get_running_loop().call_later(delay, self._due, driver, key)
        self._armed[(driver.workflow_id, key)] = (at, driver, handle)

    def started(self, driver: WorkflowDriver, key: WakeKey, timeout: float) -> None:
        """An attempt began running: its heartbeat wake counts ``timeout`` from now (if the
        wake is still armed: the attempt may have ended meanwhile)."""
        if (driver.workflow_id, key) in self._armed:
            self.arm(driver, key, self._clock.now() + timedelta(seconds=timeout))

    def disarm(self, workflow_id: str, key: WakeKey) -> None:
        armed = self._armed.pop((workflow_id, key), None)
        if armed is not None and armed[2] is not None:
            armed[2].cancel()

    def drop(self, workflow_id: str) -> None:
        """Disarm every wake of a workflow that leaves the host."""
        for key in self.keys(workflow_id):
            self.disarm(workflow_id, key)

    def keys(self, workflow_id: str) -> list[WakeKey]:
        return [key for wid, key in self._armed if wid == workflow_id]

    def next_at(self, workflow_id: str) -> datetime | None:
        """The workflow's earliest wake (where a suspended workflow must wake)."""
        times = [self._armed[(workflow_id, key)][0] for key in self.keys(workflow_id)]
        return min(times, default=None)

    def waiting(self, kind: str) -> set[str]:
        """The workflows with a wake of ``kind`` armed (e.g. a retry pending)."""
        return {wid for wid, key in self._armed if key[0] == kind}

    def close(self) -> None:
        for _, _, handle in self._armed.values():
            if handle is not None:
                handle.cancel()
        self._armed.clear()

    def _due(self, driver: WorkflowDriver, key: WakeKey) -> None:
        self._armed.pop((driver.workflow_id, key), None)
        self._fire(driver, key)
