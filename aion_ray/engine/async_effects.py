"""The Effects of an AsyncHost's drivers: activity attempts as tasks, timers on the loop,
child starts and signals through the outbox (sent until taken), closures reported to the
control plane once the run's messages are taken (see ``engine.outbox``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from aion_ray.engine.attempts import Attempts
from aion_ray.engine.driver import WorkflowDriver
from aion_ray.engine.durability import Durability
from aion_ray.engine.host import HostCore
from aion_ray.engine.host_timers import HostTimers
from aion_ray.engine.outbox import Outbox
from aion_ray.engine.recording import send_request_id
from aion_ray.engine.reports import Reports
from aion_ray.engine.transport import Closure, Outcome, Transport
from aion_ray.errors import AionError
from aion_ray.model import events as ev
from aion_ray.model.clock import Clock
from aion_ray.model.history import current_run
from aion_ray.model.payload import Payload
from aion_ray.model.store import WakeKey
from aion_ray.runtime import commands as cmd

LOCAL_WAIT = 5.0
"""Seconds a signal delivered to a workflow on the same host waits for its record to be
durable before it is sent through the control plane instead (the target may have left)."""


class AsyncEffects:
    """Carries out what the drivers of one AsyncHost ask for (see ``engine.effects``).

    ``core`` and ``durability`` are bound after construction: they are built with these
    effects."""

    core: HostCore
    durability: Durability

    def __init__(
        self,
        transport: Transport,
        clock: Clock,
        max_payload_bytes: int,
        *,
        reports: Reports,
        touch: Callable[[str], None],
        kick: Callable[[], None],
    ) -> None:
        """``touch``: a workflow did something; ``kick``: wake the pump."""
        self.transport = transport
        self.reports = reports
        self._touch = touch
        self._kick = kick
        self.timers = HostTimers(clock, self._wake)
        self.attempts = Attempts(transport, max_payload_bytes, self._attempt_ended, self.heartbeat)
        self.outbox = Outbox()

    def heartbeat(
        self, workflow_id: str, run_id: str, activity_id: int, attempt: int, details: Payload
    ) -> None:
        """An attempt of this host said it is alive."""
        driver = self.core.drivers.get(workflow_id)
        if driver is not None and driver.recorder.run_id == run_id:
            driver.activity_heartbeat(activity_id, attempt, details)
            self._touch(workflow_id)
            self._kick()

    def alive(self, workflow_id: str, run_id: str, activity_id: int, attempt: int) -> None:
        """A Ray-task attempt began running (its worker may have taken a while to start):
        its heartbeat timeout counts from now. Nothing is recorded. A late word from an
        older attempt of the activity is ignored: it must not time the current one."""
        driver = self.core.drivers.get(workflow_id)
        key: WakeKey = ("heartbeat", activity_id)
        if driver is None or driver.recorder.run_id != run_id or driver.run is None:
            return
        trail = driver.run.state.trail(activity_id)
        if trail is None or trail.done or trail.attempt != attempt or trail.command is None:
            return
        timeout = trail.command.options.heartbeat_timeout
        if timeout is not None:
            self.timers.started(driver, key, timeout)

    def deliver_signal(self, command: cmd.SendSignal, request_id: str) -> bool:
        """Deliver a signal to a workflow hosted here; False if it is not."""
        delivered = self.core.deliver_signal(command, request_id)
        self._kick()
        return delivered

    # --- the Effects protocol ------------------------------------------------------------------

    def start_activity(
        self, driver: WorkflowDriver, command: cmd.ScheduleActivity, attempt: int, run_id: str
    ) -> None:
        self.attempts.start(driver, command, attempt, run_id)

    def cancel_activity(self, driver: WorkflowDriver, activity_id: int, run_id: str) -> None:
        self.attempts.cancel(driver.workflow_id, run_id, activity_id)

    def arm(self, driver: WorkflowDriver, key: WakeKey, at: datetime) -> None:
        # A Ray-task attempt's heartbeat timeout is timed from its start (``alive``).
        self.timers.arm(driver, key, at, timed=key[0] != "heartbeat" or _local(driver, key))

    def disarm(self, driver: WorkflowDriver, key: WakeKey) -> None:
        self.timers.disarm(driver.workflow_id, key)

    def start_child(self, driver: WorkflowDriver, command: cmd.StartChild) -> None:
        parent_id, run_id = driver.workflow_id, driver.recorder.run_id
        self.outbox.send(
            f"the start of {command.child_workflow_id} (a child of {parent_id})",
            lambda: self.transport.start_child(parent_id, run_id, command),
            owner=parent_id,
        )

    def send_signal(self, driver: WorkflowDriver, command: cmd.SendSignal, request_id: str) -> None:
        target = self.core.drivers.get(command.target_workflow_id)
        deliver: Callable[[], Awaitable[None]]
        if target is not None and self.deliver_signal(command, request_id):
            deliver = lambda: self._recorded_here(target, command, request_id)  # noqa: E731
        else:
            deliver = self._routed(command, request_id)
        self.outbox.send(f"signal {request_id}", deliver, owner=driver.workflow_id)

    async def _recorded_here(
        self, target: WorkflowDriver, command: cmd.SendSignal, request_id: str
    ) -> None:
        """A signal delivered on this host is taken once the target's record of it is
        durable; if that append is refused, or the target left first, it goes through the
        control plane (which recognises a repeat by its request id)."""
        try:
            await asyncio.wait_for(self.durability.wait(target), LOCAL_WAIT)
        except (AionError, TimeoutError):
            await self.transport.send_signal(command, request_id)

    def _routed(self, command: cmd.SendSignal, request_id: str) -> Callable[[], Awaitable[None]]:
        return lambda: self.transport.send_signal(command, request_id)

    def resend(self, history: Sequence[ev.Event]) -> None:
        """Send again the signals of a run that had ended when it was hosted here: its last
        host may have died before they were taken (a repeat is recognised by the target)."""
        for sent in (e for e in current_run(history) if isinstance(e, ev.SignalSent)):
            command = cmd.SendSignal(sent.send_id, sent.target_workflow_id, sent.name, sent.payload)
            request_id = send_request_id(sent.workflow_id, sent.run_id, sent.send_id)
            deliver = self._routed(command, request_id)
            self.outbox.send(f"signal {request_id}", deliver, owner=sent.workflow_id)

    def closed(self, driver: WorkflowDriver, terminal: ev.Event) -> None:
        started = driver.started
        parent = started.parent if started is not None else None
        closure = Closure(driver.workflow_id, terminal.run_id, terminal, parent)
        self.outbox.after(driver.workflow_id, lambda: self._report(closure))

    def _report(self, closure: Closure) -> None:
        self.reports.closed(closure)
        self._kick()

    def _attempt_ended(
        self,
        driver: WorkflowDriver,
        run_id: str,
        command: cmd.ScheduleActivity,
        attempt: int,
        outcome: Outcome,
    ) -> None:
        self.core.report_activity(driver, run_id, command.activity_id, attempt, outcome)
        self._touch(driver.workflow_id)
        self._kick()

    def _wake(self, driver: WorkflowDriver, key: WakeKey) -> None:
        if self.core.is_current(driver):
            driver.wake(key)
            self._kick()


def _local(driver: WorkflowDriver, key: WakeKey) -> bool:
    trail = driver.run.state.trail(key[1]) if driver.run is not None else None
    return trail is None or trail.command is None or trail.command.options.local
