"""WorkflowActor: a pooled Ray actor hosting resident workflows through an AsyncHost.

Only wiring lives here: the registry places workflows on it (``host_start``,
``host_resume``) and routes arrivals to it; the AsyncHost does the work; ``RayTransport``
carries what leaves the actor (appends and reads to the store actor, activity attempts as Ray
tasks this actor owns, child starts, signals and closures to the registry).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
from collections.abc import Sequence
from typing import Any

from aion_ray.actors.activity_task import run_attempt
from aion_ray.actors.counting import counted
from aion_ray.actors.metrics import RayMetrics
from aion_ray.actors.stubs import HostStub, RegistryStub, StoreStub
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.engine.async_host import AsyncHost
from aion_ray.engine.capacity import Slot
from aion_ray.engine.starts import StartEvent, StartSpec
from aion_ray.engine.transport import AttemptKey, Closure, Outcome, Placed
from aion_ray.errors import AionError, EngineUnavailableError
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.payload import Payload
from aion_ray.model.store import AppendRequest, AppendResult, SuspendedWorkflow
from aion_ray.runtime import commands as cmd

log = logging.getLogger(__name__)
SUSPEND_TIMEOUT = 5.0
"""Seconds a host waits for the registry to take workflows it suspends (then keeps them)."""


class RayTransport:
    """The AsyncHost's way out of a workflow actor."""

    def __init__(self, name: str, store: StoreStub, registry: RegistryStub) -> None:
        self.name = name
        self.store = store
        self.registry = registry

    async def append_batch(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        return await self.store.append_batch(requests)

    async def read_histories(self, workflow_ids: Sequence[str]) -> dict[str, list[ev.Event]]:
        return await self.store.read_histories(workflow_ids)

    async def run_activity(
        self, command: cmd.ScheduleActivity, max_bytes: int, attempt: AttemptKey
    ) -> Outcome:
        # The task's heartbeats come back to this actor, found by its name when the task
        # first sends one: a live handle in the arguments costs every attempt its
        # serialisation here and its registration in the task's worker.
        host = HostStub(self.name, self.store.namespace)
        return await run_attempt(command, max_bytes, host, attempt)

    # Calls the host's outbox sends again until the registry takes them (it may be
    # restarting): a workflow's child starts and signals must arrive.

    async def start_child(
        self, parent_id: str, parent_run_id: str, command: cmd.StartChild
    ) -> None:
        await self.registry.start_child(parent_id, parent_run_id, command)

    async def send_signal(self, command: cmd.SendSignal, request_id: str) -> None:
        await self.registry.route_signal(command, request_id)

    # One-way messages to the registry: with the registry gone they are dropped (what it
    # would have learned it rebuilds when it is back).

    def closed(self, closures: Sequence[Closure]) -> None:
        self.registry.closed(self.name, closures)

    def placed(self, placements: Sequence[Placed], withdrawn: Sequence[Placed] = ()) -> None:
        self.registry.placed(self.name, placements, withdrawn)

    async def suspended(self, suspensions: Sequence[SuspendedWorkflow]) -> bool:
        try:
            await asyncio.wait_for(self.registry.suspended(self.name, suspensions), SUSPEND_TIMEOUT)
        except (AionError, TimeoutError):
            return False  # the registry cannot be reached: they stay here
        return True

    def wake(self, workflow_ids: Sequence[str]) -> None:
        self.registry.wake(workflow_ids)


@counted
class WorkflowActor:
    """Ray actor (async, detached, ``num_cpus=0``): see the module docstring."""

    def __init__(
        self, name: str, namespace: str, max_payload_bytes: int, idle_timeout: float
    ) -> None:
        self.name = name
        self.idle_timeout = idle_timeout
        self.namespace = namespace
        self.max_payload_bytes = max_payload_bytes
        self._host: AsyncHost | None = None
        self._forever: asyncio.Future[None] | None = None
        self.calls: collections.Counter[str] = collections.Counter()  # for benchmarks

    def _ensure_host(self) -> AsyncHost:
        if self._host is None:  # made on first use: an AsyncHost needs the running loop
            store, registry = StoreStub(self.namespace), RegistryStub(self.namespace)
            transport = RayTransport(self.name, store, registry)
            self._host = AsyncHost(
                transport,
                holder=self.name,
                max_payload_bytes=self.max_payload_bytes,
                idle_timeout=self.idle_timeout,
            )
            self._host.core.metrics = RayMetrics()
        return self._host

    async def ready(self) -> str:
        self._ensure_host()
        return self.name

    async def watch(self) -> None:
        """Never returns: the registry holds this call open and learns of a death when it
        fails (within ~15 ms of a SIGKILL)."""
        if self._forever is None:
            self._forever = asyncio.get_running_loop().create_future()
        await self._forever

    async def host_start(
        self,
        definition: WorkflowDefinition[Any],
        workflow_id: str,
        started: StartEvent,
        run_id: str,
        slot: Slot | None = None,
    ) -> None:
        """The control plane places a new workflow here (HostFullError: no room)."""
        await self._ensure_host().start(definition, workflow_id, started, run_id, slot)

    async def host_resume(
        self,
        definitions: Sequence[WorkflowDefinition[Any]],
        workflow_ids: Sequence[str],
        slot: Slot | None = None,
    ) -> dict[str, str | ev.Event | None]:
        host = self._ensure_host()
        host.register(definitions)
        return await host.resume(workflow_ids, slot)

    async def start(self, specs: Sequence[StartSpec], slot: Slot) -> list[str | AionError]:
        """A client's starts, placed here with no control plane in between: for each, its
        run id once durable, or the error refusing it (HostFullError: no room here;
        SequenceConflictError: the id exists, the control plane decides)."""
        host = self._ensure_host()
        replies = await asyncio.gather(
            *(host.start_new(spec, slot) for spec in specs), return_exceptions=True
        )
        return [_reply(reply) for reply in replies]

    async def placements(self) -> list[Placed]:
        """What this actor hosts now (the control plane reconciles its view with it)."""
        return self._ensure_host().placements()

    async def signal(self, workflow_id: str, name: str, payload: Payload, request_id: str) -> None:
        await self._ensure_host().signal(workflow_id, name, payload, request_id)

    async def cancel(self, workflow_id: str, reason: str) -> bool:
        return await self._ensure_host().cancel(workflow_id, reason)

    async def terminate(self, workflow_id: str, reason: str) -> None:
        await self._ensure_host().terminate(workflow_id, reason)

    async def hold(self, workflow_id: str, reason: str | None) -> None:
        await self._ensure_host().hold(workflow_id, reason)

    async def result(self, workflow_id: str, timeout: float | None) -> ev.Event | None:
        return await self._ensure_host().result(workflow_id, timeout)

    async def query(self, workflow_id: str, name: str, args: Sequence[Any]) -> Any:
        return self._ensure_host().query(workflow_id, name, args)

    async def heartbeat(
        self, workflow_id: str, run_id: str, activity_id: int, attempt: int, details: Payload
    ) -> None:
        self._ensure_host().heartbeat(workflow_id, run_id, activity_id, attempt, details)

    async def alive(self, workflow_id: str, run_id: str, activity_id: int, attempt: int) -> None:
        self._ensure_host().alive(workflow_id, run_id, activity_id, attempt)

    async def child_finished(self, workflow_id: str, child_id: int, terminal: ev.Event) -> None:
        self._ensure_host().child_finished(workflow_id, child_id, terminal)

    async def child_not_started(self, workflow_id: str, child_id: int, error: ErrorInfo) -> None:
        self._ensure_host().child_not_started(workflow_id, child_id, error)

    async def idle(self) -> dict[str, float]:
        """Seconds each blocked hosted workflow has done nothing (candidates to suspend)."""
        return self._ensure_host().idle()

    async def suspend(self, workflow_ids: Sequence[str]) -> list[str]:
        return await self._ensure_host().suspend(workflow_ids)

    async def stats(self) -> dict[str, int]:
        return dict(self.calls)

    async def pid(self) -> int:
        return os.getpid()

    async def hosted(self) -> list[str]:
        return self._ensure_host().hosted()

    async def holds(self, workflow_id: str) -> bool:
        """Whether this actor hosts the workflow now."""
        return workflow_id in self._ensure_host().hosted()


def _reply(reply: str | BaseException) -> str | AionError:
    if isinstance(reply, str | AionError):
        return reply
    if isinstance(reply, Exception):
        return EngineUnavailableError("workflow actor", f"{type(reply).__name__}: {reply}")
    raise reply
