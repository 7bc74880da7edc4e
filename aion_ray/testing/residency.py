"""Residency and supervision in the TestEngine, on the control plane's own policies.

With ``TestEngine(idle_timeout=...)`` a workflow blocked on durable waits (timers, signals,
children; nothing running, no retry pending) for its idle timeout of fake time is suspended
as the engine on Ray suspends it: its driver is dropped, its next wake kept in the control
plane's ``WakeSchedule``, a ``suspended`` lifecycle row written. A due timer, a signal, a
cancel, a child's end or a query makes it resident again: arrivals are recorded first under
the engine's own lease (``engine.unhosted``), then the history is replayed. With
``restart_limit`` a crash is supervised by the control plane's ``Supervisor``: the workflow is
resumed after its backoff, and past the limit its run fails with RestartIntensityExceeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aion_ray.control.supervision import Supervisor
from aion_ray.control.wakes import WakeSchedule
from aion_ray.engine.driver import WorkflowDriver
from aion_ray.engine.unhosted import (
    cancel_events,
    failure_events,
    pause_events,
    reopen_events,
    resume_events,
    signal_events,
    terminate_events,
)
from aion_ray.errors import WorkflowTerminalError
from aion_ray.model import events as ev
from aion_ray.model.payload import Payload
from aion_ray.model.store import AppendRequest, SuspendedWorkflow

if TYPE_CHECKING:
    from aion_ray.testing.host import InProcessHost

HOLDER = "test-engine-control"
"""The lease holder that records arrivals for suspended workflows."""


class InProcessResidency:
    """Suspends, wakes and supervises the TestEngine's workflows; see the module docstring."""

    def __init__(
        self,
        host: InProcessHost,
        idle_timeout: float | None,
        restart_limit: tuple[int, float] | None,
    ) -> None:
        self.host = host
        self.clock = host.clock
        self.idle_timeout = idle_timeout
        self.wakes = WakeSchedule()
        self.suspended: set[str] = set()
        self._active: dict[str, datetime] = {}
        self.supervisor = Supervisor(self.clock, restart_limit) if restart_limit else None

    def touched(self, workflow_id: str) -> None:
        """The workflow did something (an append, a query): its idle time starts again."""
        self._active[workflow_id] = self.clock.now()

    def next_due(self) -> datetime | None:
        """The next time something is due here: a wake, or a suspension."""
        times = [at for at in (self.wakes.next_at(), self._next_suspension()) if at is not None]
        return min(times, default=None)

    def fire(self) -> None:
        """Wake the suspended workflows that are due; suspend those idle long enough."""
        now = self.clock.now()
        for workflow_id in self.wakes.due(now):
            self.wake(workflow_id)
        for workflow_id, at in self._suspensions():
            if at <= now:
                self.suspend(workflow_id)

    def suspend(self, workflow_id: str) -> None:
        host = self.host
        driver = host.core.drivers[workflow_id]
        armed = [key for key in host.armed_wakes() if key[0] == workflow_id]
        wake_at = min((host.wakes.at(key) for key in armed), default=None)
        for _, key in armed:
            host.disarm(driver, key)
        host.core.discard(workflow_id)
        self._active.pop(workflow_id, None)
        self.suspended.add(workflow_id)
        self.wakes.set(workflow_id, wake_at)
        suspension = SuspendedWorkflow(
            workflow_id, driver.recorder.run_id, driver.recorder.head, host.core.holder, wake_at
        )
        host.store.record_lifecycle([suspension.entry(self.clock.now())])

    def wake(self, workflow_id: str) -> bool:
        """Make a suspended workflow resident again (False: it was not suspended)."""
        if workflow_id not in self.suspended:
            return False
        self.suspended.discard(workflow_id)
        self.wakes.clear(workflow_id)
        self.host.resume(workflow_id)
        return True

    def signal(self, workflow_id: str, name: str, payload: Payload, request_id: str) -> bool:
        """Record a signal for a suspended workflow, then wake it (False: not suspended)."""
        if workflow_id not in self.suspended:
            return False
        history = self.host.store.read_history(workflow_id)
        self._record(history, signal_events(history, self.clock, name, payload, request_id))
        return self.wake(workflow_id)

    def cancel(self, workflow_id: str, reason: str) -> bool | None:
        """Request cancellation of a suspended workflow (None: it is not suspended)."""
        if workflow_id not in self.suspended:
            return None
        history = self.host.store.read_history(workflow_id)
        try:
            arrival = cancel_events(history, self.clock, reason)
        except WorkflowTerminalError:
            return False
        self._record(history, arrival)
        self.wake(workflow_id)
        return True

    def terminate(self, workflow_id: str, reason: str) -> bool:
        """End a suspended workflow's run (False: it is not suspended); its end is then
        reported as a resident workflow's is."""
        if workflow_id not in self.suspended:
            return False
        history = self.host.store.read_history(workflow_id)
        self._record(history, terminate_events(history, self.clock, reason))
        self.wake(workflow_id)
        return True

    def hold(self, workflow_id: str, reason: str | None) -> bool:
        """Pause (a ``reason``) or resume (None) a suspended workflow, recorded here; it then
        stays suspended until it is woken (False: it is not suspended)."""
        if workflow_id not in self.suspended:
            return False
        history = self.host.store.read_history(workflow_id)
        if reason is None:
            self._record(history, resume_events(history, self.clock))
            self.wake(workflow_id)  # what its hold kept back can go now
        else:
            self._record(history, pause_events(history, self.clock, reason))
        return True

    def reopen(self, workflow_id: str) -> None:
        """Reopen a run that ended: recorded here (no host holds an ended run), then the
        workflow is hosted again from its history (see ``engine.unhosted.reopen_events``)."""
        history = self.host.store.read_history(workflow_id)
        self._record(history, reopen_events(workflow_id, history, self.clock))
        if self.supervisor is not None:
            self.supervisor.forget(workflow_id)  # a reopen starts its restart count afresh
        self.host.core.discard(workflow_id)
        self.host.resume(workflow_id)

    def crashed(self, workflow_id: str) -> bool:
        """Supervise a crash: resume after the backoff, or fail the run past the limit.
        False: no restart limit is set (the caller resumes at once)."""
        if self.supervisor is None:
            return False
        delay = self.supervisor.died(workflow_id)
        if delay is None:
            history = self.host.store.read_history(workflow_id)
            self._record(history, failure_events(history, self.clock, self.supervisor.failure()))
            self.host.resume(workflow_id)  # it ended: its parent learns how
            return True
        self.suspended.add(workflow_id)
        self.wakes.set(workflow_id, self.clock.now() + timedelta(seconds=delay))
        return True

    def _record(self, history: Sequence[ev.Event], events: Sequence[ev.Event]) -> None:
        """Append what was decided on ``history`` at its head, under this holder's lease."""
        if not events:
            return
        workflow_id = history[0].workflow_id
        request = AppendRequest(workflow_id, events, expected_seq=len(history), acquire=HOLDER)
        [result] = self.host.store.append_batch([request])
        if result.error is not None:
            raise result.error

    def _suspensions(self) -> list[tuple[str, datetime]]:
        """Each blocked workflow with the time it is due to be suspended."""
        found = []
        for workflow_id, driver in self.host.core.drivers.items():
            timeout = self._timeout(driver)
            if timeout is not None and self.host.blocked(driver):
                since = self._active.setdefault(workflow_id, self.clock.now())
                found.append((workflow_id, since + timedelta(seconds=timeout)))
        return found

    def _next_suspension(self) -> datetime | None:
        return min((at for _, at in self._suspensions()), default=None)

    def _timeout(self, driver: WorkflowDriver) -> float | None:
        own = driver.definition.hosting.idle_timeout
        return own if own is not None else self.idle_timeout
