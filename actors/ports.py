"""The control plane's ports over Ray: hosts are workflow actors, the fleet starts them, the
store is the store actor, timers are the event loop's. Ray errors are mapped here, once: a
host that died or cannot be reached is ``HostDied``; an AionError a host raised is itself."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import ray

from aion_ray.actors import catalogue
from aion_ray.actors.calls import call, translated
from aion_ray.actors.config import REGISTRY_NAME, STORE_NAME, EngineConfig
from aion_ray.actors.workflow_actor import WorkflowActor
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.control.ports import HostDied, Resumed
from aion_ray.engine.capacity import Slot
from aion_ray.engine.starts import StartEvent
from aion_ray.engine.transport import Placed
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.payload import Payload
from aion_ray.model.rows import EncodedEvents
from aion_ray.model.store import AppendRequest, LifecycleEntry
from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo

RemoteWorkflowActor = ray.remote(WorkflowActor)


class RayHost:
    """A workflow actor, as the control plane calls it."""

    def __init__(self, name: str, handle: Any) -> None:
        self.name = name
        self.handle = handle

    async def _call(self, ref: Any) -> Any:
        try:
            return await ref
        except ray.exceptions.RayActorError:
            raise HostDied(self.name) from None
        except ray.exceptions.RayError as exc:
            raise translated(exc, self.name) from None

    async def start(
        self,
        definition: WorkflowDefinition[Any],
        workflow_id: str,
        started: StartEvent,
        run_id: str,
        slot: Slot,
    ) -> None:
        ref = self.handle.host_start.remote(definition, workflow_id, started, run_id, slot)
        await self._call(ref)

    async def resume(
        self,
        definitions: Sequence[WorkflowDefinition[Any]],
        workflow_ids: Sequence[str],
        slot: Slot,
    ) -> Resumed:
        ref = self.handle.host_resume.remote(list(definitions), list(workflow_ids), slot)
        found: Resumed = await self._call(ref)
        return found

    async def placements(self) -> list[Placed]:
        found: list[Placed] = await self._call(self.handle.placements.remote())
        return found

    async def signal(self, workflow_id: str, name: str, payload: Payload, request_id: str) -> None:
        await self._call(self.handle.signal.remote(workflow_id, name, payload, request_id))

    async def cancel(self, workflow_id: str, reason: str) -> bool:
        requested: bool = await self._call(self.handle.cancel.remote(workflow_id, reason))
        return requested

    async def query(self, workflow_id: str, name: str, args: Sequence[Any]) -> Any:
        return await self._call(self.handle.query.remote(workflow_id, name, list(args)))

    async def idle(self) -> dict[str, float]:
        found: dict[str, float] = await self._call(self.handle.idle.remote())
        return found

    def suspend(self, workflow_ids: Sequence[str]) -> None:
        self.handle.suspend.remote(list(workflow_ids))

    def child_finished(self, workflow_id: str, child_id: int, terminal: ev.Event) -> None:
        self.handle.child_finished.remote(workflow_id, child_id, terminal)

    def child_not_started(self, workflow_id: str, child_id: int, error: ErrorInfo) -> None:
        self.handle.child_not_started.remote(workflow_id, child_id, error)

    def stop(self) -> None:
        ray.kill(self.handle, no_restart=True)


class RayFleet:
    """Starts workflow actors, and watches each: a death is reported to ``died``."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.died: Callable[[str], None] = lambda name: None
        self._watches: set[asyncio.Task[None]] = set()  # held: the loop keeps weak refs

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
        await handle.ready.remote()
        task = asyncio.get_running_loop().create_task(self._watch(name, handle))
        self._watches.add(task)
        task.add_done_callback(self._watches.discard)
        return RayHost(name, handle)

    async def _watch(self, name: str, handle: Any) -> None:
        """Hold a call open on the actor: it fails within milliseconds of its death."""
        try:
            await handle.watch.remote()
        except ray.exceptions.RayError:
            self.died(name)


class RayStore:
    """The store actor, as the control plane uses it."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    async def read_history(self, workflow_id: str) -> list[ev.Event]:
        history: list[ev.Event] = await call(
            self.handle.read_history.remote(workflow_id), STORE_NAME
        )
        return history

    async def append_as_holder(
        self, workflow_id: str, events: Sequence[ev.Event], head: int
    ) -> None:
        request = AppendRequest(
            workflow_id,
            EncodedEvents.of(workflow_id, events),
            expected_seq=head,
            acquire=REGISTRY_NAME,
        )
        [result] = await call(self.handle.append_batch.remote([request]), STORE_NAME)
        if result.error is not None:
            raise result.error

    async def record_lifecycle(self, entries: Sequence[LifecycleEntry]) -> None:
        await call(self.handle.record_lifecycle.remote(list(entries)), STORE_NAME)

    async def running(self) -> list[WorkflowInfo]:
        flt = WorkflowFilter(status=(WorkflowStatus.RUNNING, WorkflowStatus.PAUSED))
        found: list[WorkflowInfo] = await call(self.handle.list_workflows.remote(flt), STORE_NAME)
        return found

    async def suspended(self) -> dict[str, datetime | None]:
        found = await call(self.handle.suspended_workflows.remote(), STORE_NAME)
        return {item.workflow_id: item.wake_at for item in found}

    async def save_definition(self, definition: WorkflowDefinition[Any]) -> None:
        await catalogue.save(self.handle, definition)

    async def load_definitions(
        self, workflow_types: Sequence[str]
    ) -> dict[str, WorkflowDefinition[Any]]:
        return await catalogue.load(self.handle, workflow_types)


class LoopTimers:
    """Timers on the running event loop."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        asyncio.get_running_loop().call_later(delay, callback)
