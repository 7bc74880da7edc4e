"""AsyncHost: the HostCore driven by an asyncio loop, for hosts whose store is awaited.

The Ray workflow actor is a thin shell over this class; nothing here knows Ray. What leaves
the process (appends and reads, remote activity attempts, child starts, signals to workflows
hosted elsewhere, closed runs) goes through a ``Transport``. One pump task (``async_pump``)
makes the drivers' activations durable, so the workflows of one host share their store
calls. Timers, retry backoffs and deadlines are loop timers; local activities run in
threads, so the loop stays responsive.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.engine.async_pump import AsyncPump
from aion_ray.engine.attempts import Attempts
from aion_ray.engine.capacity import Capacity, Slot
from aion_ray.engine.driver import WorkflowDriver
from aion_ray.engine.host import HostCore
from aion_ray.engine.host_timers import HostTimers
from aion_ray.engine.residency import Residency
from aion_ray.engine.results import ResultWaits
from aion_ray.engine.starts import StartEvent, StartSpec, start_event
from aion_ray.engine.transport import Closure, Outcome, Placed, Transport
from aion_ray.errors import AionError, SequenceConflictError, WorkflowNotFoundError
from aion_ray.model import events as ev
from aion_ray.model.clock import Clock, SystemClock
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.ids import new_run_id
from aion_ray.model.payload import DEFAULT_MAX_PAYLOAD_BYTES, Payload
from aion_ray.model.store import WakeKey
from aion_ray.runtime import commands as cmd


class AsyncHost(Residency, AsyncPump):
    """Hosts drivers on the running asyncio loop; the Effects of every driver it creates."""

    def __init__(
        self,
        transport: Transport,
        *,
        holder: str,
        clock: Clock | None = None,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        idle_timeout: float | None = None,
    ) -> None:
        self.transport = transport
        self.clock = clock or SystemClock()
        self.max_payload_bytes = max_payload_bytes
        self.core = HostCore(self, self.clock, holder=holder)
        self.core.pump.encode_events = True  # the store lives in another process
        self._kick = asyncio.Event()
        self._durable: dict[str, int] = {}  # workflow id -> head acknowledged by the store
        self._waiters: dict[str, list[tuple[int, asyncio.Future[None]]]] = {}
        self.timers = HostTimers(self.clock, self._wake)
        self._active: dict[str, float] = {}  # workflow id -> when it last did something
        self.attempts = Attempts(transport, max_payload_bytes, self._attempt_ended, self.heartbeat)
        self._closures: list[Closure] = []
        self._leaving: set[str] = set()  # being suspended: the control plane is told
        self._placed: list[Placed] = []  # reported before the next append
        self._withdrawn: list[Placed] = []  # reported placements whose start was refused
        self.capacity = Capacity(holder, lambda: len(self.core.drivers))
        self.results = ResultWaits(lambda workflow_id: workflow_id in self.core.drivers)
        loop = asyncio.get_running_loop()
        self._pump = loop.create_task(self._run_pump())
        self._sweeper = loop.create_task(self._sweep(idle_timeout)) if idle_timeout else None

    # --- what the host is asked to do ----------------------------------------------------------

    async def start(
        self,
        definition: WorkflowDefinition[Any],
        workflow_id: str,
        started: StartEvent,
        run_id: str,
        slot: Slot | None = None,
        placed: Placed | None = None,
    ) -> None:
        """Host a new workflow; returns once its start is durable (raises if refused:
        HostFullError, no room for ``slot``; SequenceConflictError, the id is taken).
        ``placed``: report it to the control plane, before its first append."""
        self.core.register(definition)
        if workflow_id in self.core.drivers:  # hosted here already: the id exists
            raise SequenceConflictError(
                workflow_id, 0, self.core.drivers[workflow_id].recorder.head
            )
        self.capacity.take(slot)
        try:
            self.results.started(workflow_id)
            driver = self.core.launch(workflow_id, definition, started, run_id)
        finally:
            self.capacity.taken()
        if placed is not None:
            self._placed.append(placed)
        await self.durable(driver)

    async def start_new(self, start: StartSpec, slot: Slot) -> str:
        """A client's start, with no control plane in between: its run id once durable.
        The placement is reported to the control plane before the start's append is sent
        (so a host that dies right after it is known to have held it), and withdrawn if the
        append is refused."""
        definition = start.definition
        started = start_event(definition, start.payload, start.search_attributes)
        run_id = new_run_id()
        placed = Placed(start.workflow_id, run_id, definition.name, slot)
        try:
            await self.start(definition, start.workflow_id, started, run_id, slot, placed)
        except AionError:
            self._withdrawn.append(placed)
            self._kick.set()
            raise
        return run_id

    def placements(self) -> list[Placed]:
        """What this host holds now (for a control plane reconciling its view)."""
        slot = self.capacity.slot() or ("", 0)
        return [
            Placed(wid, driver.recorder.run_id, driver.definition.name, slot)
            for wid, driver in self.core.drivers.items()
        ]

    async def resume(
        self, workflow_ids: Sequence[str], slot: Slot | None = None
    ) -> dict[str, str | ev.Event | None]:
        """Host these workflows again from their histories; each maps to its run id once it
        is resident, to its terminal event if it had ended, or to None if it has no history.
        HostFullError if ``slot`` has no room for them."""
        self.capacity.take(slot, len(workflow_ids))
        try:
            histories = await self.transport.read_histories(workflow_ids)
            outcome, hosted = self._recover_all(workflow_ids, histories)
        finally:
            self.capacity.taken(len(workflow_ids))  # the drivers count from here
        await asyncio.gather(*(self.durable(driver) for driver in hosted))
        return outcome

    def _recover_all(
        self, workflow_ids: Sequence[str], histories: dict[str, list[ev.Event]]
    ) -> tuple[dict[str, str | ev.Event | None], list[WorkflowDriver]]:
        outcome: dict[str, str | ev.Event | None] = {}
        hosted = []
        for workflow_id in workflow_ids:
            history = histories.get(workflow_id, [])
            self.core.discard(workflow_id)
            driver = self.core.recover(history)
            if driver is None:  # it ended (or never began): nothing to wait for here
                self.results.left(workflow_id)
                outcome[workflow_id] = history[-1] if history else None
            else:
                hosted.append(driver)
                self.results.started(workflow_id)  # a new run may follow one that ended here
                outcome[workflow_id] = driver.recorder.run_id
        return outcome, hosted

    def register(self, definitions: Iterable[WorkflowDefinition[Any]]) -> None:
        for definition in definitions:
            self.core.register(definition)

    async def signal(self, workflow_id: str, name: str, payload: Payload, request_id: str) -> None:
        """Record a signal; returns once it is durable."""
        driver = self._hosted(workflow_id)
        driver.signal(name, payload, request_id)
        await self.durable(driver)

    async def cancel(self, workflow_id: str, reason: str) -> bool:
        driver = self._hosted(workflow_id)
        requested = driver.cancel(reason)
        await self.durable(driver)
        return requested

    async def result(self, workflow_id: str, timeout: float | None) -> ev.Event | None:
        """The end of a workflow hosted here (see ``ResultWaits.wait``)."""
        return await self.results.wait(workflow_id, timeout)

    def query(self, workflow_id: str, name: str, args: Sequence[Any]) -> Any:
        driver = self._hosted(workflow_id)
        self._touch(workflow_id)
        return driver.query(name, args)

    def heartbeat(
        self, workflow_id: str, run_id: str, activity_id: int, attempt: int, details: Payload
    ) -> None:
        """An attempt this host runs said it is alive."""
        driver = self.core.drivers.get(workflow_id)
        if driver is not None and driver.recorder.run_id == run_id:
            driver.activity_heartbeat(activity_id, attempt, details)
            self._touch(workflow_id)
            self._kick.set()

    def alive(self, workflow_id: str, run_id: str, activity_id: int) -> None:
        """A Ray-task attempt began running (its worker may have taken a while to start):
        its heartbeat timeout counts from now. Nothing is recorded."""
        driver = self.core.drivers.get(workflow_id)
        key: WakeKey = ("heartbeat", activity_id)
        if driver is None or driver.recorder.run_id != run_id or driver.run is None:
            return
        trail = driver.run.state.trail(activity_id)
        timeout = trail.command.options.heartbeat_timeout if trail and trail.command else None
        if timeout is not None:
            self.timers.started(driver, key, timeout)

    def child_finished(self, workflow_id: str, child_id: int, terminal: ev.Event) -> None:
        driver = self.core.drivers.get(workflow_id)
        if driver is not None:
            driver.child_finished(child_id, terminal)
            self._kick.set()

    def child_not_started(self, workflow_id: str, child_id: int, error: ErrorInfo) -> None:
        driver = self.core.drivers.get(workflow_id)
        if driver is not None:
            driver.child_not_started(child_id, error)
            self._kick.set()

    def deliver_signal(self, command: cmd.SendSignal, request_id: str) -> bool:
        delivered = self.core.deliver_signal(command, request_id)
        self._kick.set()
        return delivered

    def hosted(self) -> list[str]:
        return list(self.core.drivers)

    async def durable(self, driver: WorkflowDriver) -> None:
        """Wait until everything ``driver`` has recorded so far is in the store (raises the
        store's refusal if its append fails)."""
        target = driver.recorder.head
        if self._durable.get(driver.workflow_id, -1) >= target and driver.lease is not None:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(driver.workflow_id, []).append((target, waiter))
        self.core.pump.mark(driver)
        self._kick.set()
        await waiter

    def close(self) -> None:
        self._pump.cancel()
        if self._sweeper is not None:
            self._sweeper.cancel()
        self.attempts.close()
        self.timers.close()

    def _hosted(self, workflow_id: str) -> WorkflowDriver:
        driver = self.core.drivers.get(workflow_id)
        if driver is None:
            raise WorkflowNotFoundError(workflow_id)
        return driver

    # --- the Effects the drivers ask for -------------------------------------------------------

    def start_activity(
        self, driver: WorkflowDriver, command: cmd.ScheduleActivity, attempt: int, run_id: str
    ) -> None:
        self.attempts.start(driver, command, attempt, run_id)

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
        self._kick.set()

    def cancel_activity(self, driver: WorkflowDriver, activity_id: int, run_id: str) -> None:
        self.attempts.cancel(driver.workflow_id, run_id, activity_id)

    def arm(self, driver: WorkflowDriver, key: WakeKey, at: datetime) -> None:
        # A Ray-task attempt's heartbeat timeout is timed from its start (``alive``).
        self.timers.arm(driver, key, at, timed=key[0] != "heartbeat" or self._local(driver, key))

    def _local(self, driver: WorkflowDriver, key: WakeKey) -> bool:
        trail = driver.run.state.trail(key[1]) if driver.run is not None else None
        return trail is None or trail.command is None or trail.command.options.local

    def _wake(self, driver: WorkflowDriver, key: WakeKey) -> None:
        if self.core.is_current(driver):
            driver.wake(key)
            self._kick.set()

    def disarm(self, driver: WorkflowDriver, key: WakeKey) -> None:
        self.timers.disarm(driver.workflow_id, key)

    def start_child(self, driver: WorkflowDriver, command: cmd.StartChild) -> None:
        self.transport.start_child(driver.workflow_id, driver.recorder.run_id, command)

    def send_signal(self, driver: WorkflowDriver, command: cmd.SendSignal, request_id: str) -> None:
        if not self.deliver_signal(command, request_id):
            self.transport.send_signal(command, request_id)

    def closed(self, driver: WorkflowDriver, terminal: ev.Event) -> None:
        started = driver.started
        parent = started.parent if started is not None else None
        self._closures.append(Closure(driver.workflow_id, terminal.run_id, terminal, parent))
