"""AsyncHost: the HostCore driven by an asyncio loop, for hosts whose store is awaited.

The Ray workflow actor is a thin shell over this class; nothing here knows Ray. What leaves
the process (appends and reads, remote attempts, child starts, signals to workflows hosted
elsewhere, closed runs) goes through a ``Transport``. One pump task (``async_pump``) makes
the drivers' activations durable, so a host's workflows share their store calls. Timers,
backoffs and deadlines are loop timers; local activities run in threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.engine.async_effects import AsyncEffects
from aion_ray.engine.async_pump import AsyncPump
from aion_ray.engine.capacity import Capacity, Slot
from aion_ray.engine.driver import WorkflowDriver
from aion_ray.engine.durability import Durability
from aion_ray.engine.host import HostCore
from aion_ray.engine.rebuilds import Rebuilds, may_have_landed
from aion_ray.engine.reports import Reports
from aion_ray.engine.residency import Residency
from aion_ray.engine.results import ResultWaits
from aion_ray.engine.starts import StartEvent, StartSpec, start_event
from aion_ray.engine.transport import Placed, Transport
from aion_ray.errors import AionError, SequenceConflictError, WorkflowNotFoundError
from aion_ray.model import events as ev
from aion_ray.model.clock import Clock, SystemClock
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.ids import new_run_id
from aion_ray.model.payload import DEFAULT_MAX_PAYLOAD_BYTES, Payload
from aion_ray.runtime import commands as cmd


class AsyncHost:
    """Hosts drivers on the running asyncio loop.

    Composed of: ``core`` (the drivers), ``effects`` (what drivers ask for: ``attempts``,
    ``timers``), ``pump`` (appends), ``durability`` (who waits for which record),
    ``reports`` (to the control plane), ``residency`` (suspending blocked workflows),
    ``rebuilds`` (hosting again a workflow whose append was refused),
    ``capacity`` (slots) and ``results`` (result waits).
    """

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
        self.reports = Reports(transport)
        self.effects = AsyncEffects(
            transport,
            self.clock,
            max_payload_bytes,
            reports=self.reports,
            touch=lambda workflow_id: self.residency.touch(workflow_id),
            kick=self._kick,
        )
        self.core = HostCore(self.effects, self.clock, holder=holder)
        self.core.pump.encode_events = True  # the store lives in another process
        self.effects.core = self.core
        self.timers = self.effects.timers
        self.attempts = self.effects.attempts
        self.capacity = Capacity(holder, lambda: len(self.core.drivers))
        self.results = ResultWaits(lambda workflow_id: workflow_id in self.core.drivers)
        self.durability = self.effects.durability = Durability(self.core.pump.mark, self._kick)
        self.residency = self._residency()
        self.rebuilds = Rebuilds(self.resume, self.core.drivers.__contains__, transport.wake)
        self.pump = self._pump()
        loop = asyncio.get_running_loop()
        self._sweeper = (
            loop.create_task(self.residency.sweep(idle_timeout)) if idle_timeout else None
        )

    def _residency(self) -> Residency:
        return Residency(
            self.core,
            self.transport,
            attempts=self.attempts,
            timers=self.timers,
            durability=self.durability,
            results=self.results,
        )

    def _pump(self) -> AsyncPump:
        return AsyncPump(
            self.core,
            self.transport,
            self.clock,
            durability=self.durability,
            reports=self.reports,
            results=self.results,
            touch=self.residency.touch,
            left=self._ended,
            rebuild=self.rebuilds.run,
        )

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
            self.reports.placed(placed)
        await self.durability.wait(driver)

    async def start_new(self, start: StartSpec, slot: Slot) -> str:
        """A client's start, with no control plane in between: its run id once durable.
        The placement is reported to the control plane before the start's append is sent
        (so a host that dies right after it is known to have held it), and withdrawn if the
        append is refused."""
        definition = start.definition
        started = start_event(
            definition, start.payload, start.search_attributes, start.execution_timeout
        )
        run_id = new_run_id()
        placed = Placed(start.workflow_id, run_id, definition.name, slot)
        try:
            await self.start(definition, start.workflow_id, started, run_id, slot, placed)
        except AionError as exc:
            if not may_have_landed(exc):  # (if it may have, it is rebuilt)
                self.reports.withdrawn(placed)
                self._kick()
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
        await asyncio.gather(*(self.durability.wait(driver) for driver in hosted))
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
                self.effects.resend(history)
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
        await self.durability.wait(driver)

    async def cancel(self, workflow_id: str, reason: str) -> bool:
        driver = self._hosted(workflow_id)
        requested = driver.cancel(reason)
        await self.durability.wait(driver)
        return requested

    async def terminate(self, workflow_id: str, reason: str) -> None:
        """End the run at once (see ``WorkflowDriver.terminate``); returns once it is durable,
        its attempts cancelled."""
        driver = self._hosted(workflow_id)
        driver.terminate(reason)
        await self.durability.wait(driver)

    async def hold(self, workflow_id: str, reason: str | None) -> None:
        """Pause the workflow (a ``reason``) or resume it (None); see ``engine.hold``."""
        driver = self._hosted(workflow_id)
        driver.hold.pause(reason) if reason is not None else driver.hold.resume()
        await self.durability.wait(driver)

    async def result(self, workflow_id: str, timeout: float | None) -> ev.Event | None:
        """The end of a workflow hosted here (see ``ResultWaits.wait``)."""
        return await self.results.wait(workflow_id, timeout)

    def query(self, workflow_id: str, name: str, args: Sequence[Any]) -> Any:
        driver = self._hosted(workflow_id)
        self.residency.touch(workflow_id)
        return driver.query(name, args)

    def heartbeat(
        self, workflow_id: str, run_id: str, activity_id: int, attempt: int, details: Payload
    ) -> None:
        """An attempt this host runs said it is alive."""
        self.effects.heartbeat(workflow_id, run_id, activity_id, attempt, details)

    def alive(self, workflow_id: str, run_id: str, activity_id: int, attempt: int) -> None:
        """A Ray-task attempt began running: its heartbeat timeout counts from now."""
        self.effects.alive(workflow_id, run_id, activity_id, attempt)

    def child_finished(self, workflow_id: str, child_id: int, terminal: ev.Event) -> None:
        self._to_parent(workflow_id, lambda parent: parent.child_finished(child_id, terminal))

    def child_not_started(self, workflow_id: str, child_id: int, error: ErrorInfo) -> None:
        self._to_parent(workflow_id, lambda parent: parent.child_not_started(child_id, error))

    def _to_parent(self, workflow_id: str, tell: Callable[[WorkflowDriver], None]) -> None:
        """A child's news for its parent; a parent that left (its suspension crossed this
        message) is hosted again by the control plane, and its replay learns the news."""
        if (driver := self.core.drivers.get(workflow_id)) is None:
            self.transport.wake([workflow_id])
        else:
            tell(driver)
            self._kick()

    def deliver_signal(self, command: cmd.SendSignal, request_id: str) -> bool:
        return self.effects.deliver_signal(command, request_id)

    def hosted(self) -> list[str]:
        return list(self.core.drivers)

    def idle(self) -> dict[str, float]:
        """Seconds each blocked workflow has done nothing (see ``Residency.idle``)."""
        return self.residency.idle()

    async def suspend(self, workflow_ids: Iterable[str]) -> list[str]:
        """Let these workflows go if still blocked (see ``Residency.suspend``)."""
        return await self.residency.suspend(workflow_ids)

    def close(self) -> None:
        self.pump.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        self.attempts.close()
        self.effects.outbox.close()
        self.timers.close()

    def _kick(self) -> None:
        self.pump.kick()

    def _ended(self, workflow_id: str) -> None:
        """A run that ended is reported, or another holder took the workflow over: it
        leaves this host, its attempts and timers with it."""
        self.core.discard(workflow_id)
        self.durability.forget(workflow_id)
        self.residency.forget(workflow_id)
        self.attempts.drop(workflow_id)
        self.timers.drop(workflow_id)

    def _hosted(self, workflow_id: str) -> WorkflowDriver:
        driver = self.core.drivers.get(workflow_id)
        if driver is None:
            raise WorkflowNotFoundError(workflow_id)
        return driver
