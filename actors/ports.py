"""The control plane's ports over Ray: hosts are workflow actors, the fleet starts them, the
store is the store actor, timers are the event loop's. Ray errors are mapped here, once: a
host that died is ``HostDied``, one that cannot be reached ``HostUnreachable``; an AionError
a host raised is itself."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import ray

from aion_ray.actors import catalogue
from aion_ray.actors.config import HOST_PREFIX, REGISTRY_NAME, EngineConfig
from aion_ray.actors.stubs import HostStub, StoreStub
from aion_ray.actors.workflow_actor import WorkflowActor
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.control.ports import HostDied, HostUnreachable, Resumed
from aion_ray.control.tasks import Background
from aion_ray.engine.capacity import Slot
from aion_ray.engine.starts import StartEvent
from aion_ray.engine.transport import Placed
from aion_ray.errors import AionError, EngineUnavailableError
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.payload import Payload
from aion_ray.model.rows import EncodedEvents
from aion_ray.model.store import AppendRequest, LifecycleEntry
from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo

T = TypeVar("T")

RemoteWorkflowActor = ray.remote(WorkflowActor)
FOUND_TIMEOUT = 10.0
"""Seconds a workflow actor found by name has to answer (else it is left for dead)."""
SPAWN_TIMEOUT = 60.0
"""Seconds a new workflow actor has to be ready (placed and started), else it is killed."""
WATCH_AGAIN = 1.0
"""Seconds before a watch whose call failed (not its actor) is held open again."""


class RayHost:
    """A workflow actor, as the control plane calls it: a dead host is ``HostDied``, one
    that could not be reached through the stub's retries ``HostUnreachable``."""

    def __init__(self, stub: HostStub) -> None:
        self.name = stub.name
        self.stub = stub

    async def _call(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except EngineUnavailableError as exc:
            if exc.actor != self.name:  # the host's own answer about another actor
                raise
            if exc.state == "died":
                raise HostDied(self.name) from None
            if exc.state == "unreachable":
                raise HostUnreachable(self.name) from None
            raise

    async def start(
        self,
        definition: WorkflowDefinition[Any],
        workflow_id: str,
        started: StartEvent,
        run_id: str,
        slot: Slot,
    ) -> None:
        await self._call(self.stub.host_start(definition, workflow_id, started, run_id, slot))

    async def resume(
        self,
        definitions: Sequence[WorkflowDefinition[Any]],
        workflow_ids: Sequence[str],
        slot: Slot,
    ) -> Resumed:
        return await self._call(self.stub.host_resume(definitions, workflow_ids, slot))

    async def placements(self) -> list[Placed]:
        return await self._call(self.stub.placements())

    async def signal(self, workflow_id: str, name: str, payload: Payload, request_id: str) -> None:
        await self._call(self.stub.signal(workflow_id, name, payload, request_id))

    async def cancel(self, workflow_id: str, reason: str) -> bool:
        return await self._call(self.stub.cancel(workflow_id, reason))

    async def terminate(self, workflow_id: str, reason: str) -> None:
        await self._call(self.stub.terminate(workflow_id, reason))

    async def hold(self, workflow_id: str, reason: str | None) -> None:
        await self._call(self.stub.hold(workflow_id, reason))

    async def query(self, workflow_id: str, name: str, args: Sequence[Any]) -> Any:
        return await self._call(self.stub.query(workflow_id, name, args))

    async def idle(self) -> dict[str, float]:
        return await self._call(self.stub.idle())

    def suspend(self, workflow_ids: Sequence[str]) -> None:
        self.stub.suspend(workflow_ids)

    def child_finished(self, workflow_id: str, child_id: int, terminal: ev.Event) -> None:
        self.stub.child_finished(workflow_id, child_id, terminal)

    def child_not_started(self, workflow_id: str, child_id: int, error: ErrorInfo) -> None:
        self.stub.child_not_started(workflow_id, child_id, error)

    def stop(self) -> None:
        self.stub.kill()


class RayFleet:
    """Starts workflow actors, and watches each: a death is reported to ``died``.

    Every actor it makes is either a host the pool counts or killed: a spawn that fails, or
    whose actor is not ready within ``SPAWN_TIMEOUT`` (its placement pending: a node lost, a
    cluster full), kills it before raising, and ``running`` kills the actors it finds that do
    not answer. A detached actor left behind would live on outside the pool's ceiling."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.died: Callable[[str], None] = lambda name: None
        self._watches = Background()

    async def spawn(self, name: str) -> RayHost:
        handle: Any = RemoteWorkflowActor.options(
            name=name,
            namespace=self.config.namespace,
            lifetime="detached",
            num_cpus=0,
            max_restarts=0,
            max_concurrency=10_000,
        ).remote(
            name, self.config.namespace, self.config.max_payload_bytes, self.config.idle_timeout
        )
        stub = HostStub(name, self.config.namespace, handle)
        try:
            await asyncio.wait_for(stub.ready(), SPAWN_TIMEOUT)
        except BaseException:  # failed, timed out or cancelled: no actor outlives it
            _kill(stub)
            raise
        self._watches.run(self._watch(stub))
        return RayHost(stub)

    async def running(self) -> list[RayHost]:
        """The namespace's live workflow actors, found by name (an earlier registry
        started them), each watched from now on; those that do not answer within
        FOUND_TIMEOUT are killed (no pool would count them)."""
        named = await asyncio.to_thread(ray.util.list_named_actors, all_namespaces=True)
        stubs = [
            HostStub(actor["name"], self.config.namespace)
            for actor in named
            if actor["namespace"] == self.config.namespace and actor["name"].startswith(HOST_PREFIX)
        ]
        answers = await asyncio.gather(
            *(asyncio.wait_for(stub.ready(), FOUND_TIMEOUT) for stub in stubs),
            return_exceptions=True,
        )
        found = [stub for stub, answer in zip(stubs, answers, strict=True) if answer == stub.name]
        for stub in set(stubs) - set(found):
            _kill(stub)
        for stub in found:
            self._watches.run(self._watch(stub))
        return [RayHost(stub) for stub in found]

    async def _watch(self, stub: HostStub) -> None:
        """Hold a call open on the actor: it fails within milliseconds of its death. One
        that cannot be reached for long (the stub's retries) is declared lost: it is killed
        before its workflows are resumed elsewhere, so it cannot serve them as a zombie."""
        while True:
            try:
                await stub.watch()
                return  # it answered: it is stopping on purpose
            except EngineUnavailableError as exc:
                if exc.state == "unreachable":
                    _kill(stub)
                elif exc.state != "died":
                    await asyncio.sleep(WATCH_AGAIN)  # the call failed, not the actor
                    continue
            except AionError:
                await asyncio.sleep(WATCH_AGAIN)
                continue
            self.died(stub.name)
            return


def _kill(stub: HostStub) -> None:
    """Stop the actor for good; one already gone is fine."""
    with contextlib.suppress(AionError, ray.exceptions.RayError):
        stub.kill()


class RayStore:
    """The store actor, as the control plane uses it."""

    def __init__(self, stub: StoreStub) -> None:
        self.stub = stub

    async def read_history(self, workflow_id: str) -> list[ev.Event]:
        return await self.stub.read_history(workflow_id)

    async def append_as_holder(
        self, workflow_id: str, events: Sequence[ev.Event], head: int
    ) -> None:
        request = AppendRequest(
            workflow_id,
            EncodedEvents.of(workflow_id, events),
            expected_seq=head,
            acquire=REGISTRY_NAME,
        )
        [result] = await self.stub.append_batch([request])
        if result.error is not None:
            raise result.error

    async def record_lifecycle(self, entries: Sequence[LifecycleEntry]) -> None:
        await self.stub.record_lifecycle(entries)

    async def running(self) -> list[WorkflowInfo]:
        flt = WorkflowFilter(status=(WorkflowStatus.RUNNING, WorkflowStatus.PAUSED))
        return await self.stub.list_workflows(flt)

    async def suspended(self) -> dict[str, datetime | None]:
        found = await self.stub.suspended_workflows()
        return {item.workflow_id: item.wake_at for item in found}

    async def save_definition(self, definition: WorkflowDefinition[Any]) -> None:
        await catalogue.save(self.stub, definition)

    async def load_definitions(
        self, workflow_types: Sequence[str]
    ) -> dict[str, WorkflowDefinition[Any] | ErrorInfo]:
        return await catalogue.load(self.stub, workflow_types)


class LoopTimers:
    """Timers on the running event loop."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        asyncio.get_running_loop().call_later(delay, callback)
