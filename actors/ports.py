"""The control plane's ports over Ray: hosts are workflow actors, the fleet starts them, the
store is the store actor, timers are the event loop's. Ray errors are mapped here, once: a
host that died or cannot be reached is ``HostDied``; an AionError a host raised is itself."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import ray

from aion_ray.actors.calls import call, translated
from aion_ray.actors.catalogue import entry_for, load
from aion_ray.actors.config import REGISTRY_NAME, STORE_NAME, EngineConfig
from aion_ray.actors.workflow_actor import WorkflowActor
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.control.ports import HostDied, Resumed
from aion_ray.engine.recorder import EventDraft
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
        started: EventDraft,
        run_id: str,
    ) -> None:
        await self._call(self.handle.host_start.remote(definition, workflow_id, started, run_id))

    async def resume(
        self, definitions: Sequence[WorkflowDefinition[Any]], workflow_ids: Sequence[str]
    ) -> Resumed:
        found: Resumed = await self._call(
            self.handle.host_resume.remote(list(definitions), list(workflow_ids))
        )
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
        table = await call(self.handle.sql.remote(SUSPENDED_QUERY), STORE_NAME)
        found: dict[str, datetime | None] = {}
        for workflow_id, detail in zip(
            table.column("workflow_id").to_pylist(),
            table.column("detail").to_pylist(),
            strict=True,
        ):
            wake = json.loads(detail).get("wake_at")
            found[workflow_id] = datetime.fromisoformat(wake) if wake else None
        return found

    async def save_definition(self, definition: WorkflowDefinition[Any]) -> None:
        await self.record_lifecycle([entry_for(definition)])

    async def load_definitions(
        self, workflow_types: Sequence[str]
    ) -> dict[str, WorkflowDefinition[Any]]:
        return await load(self.handle, workflow_types)


class LoopTimers:
    """Timers on the running event loop."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> None:
        asyncio.get_running_loop().call_later(delay, callback)


SUSPENDED_QUERY = """
WITH parked AS (
    SELECT l.workflow_id, arg_max(l.detail, l.recorded_at) AS detail
    FROM lifecycle AS l JOIN workflows AS w USING (workflow_id)
    WHERE l.kind = 'suspended' AND w.status IN ('running', 'paused')
    GROUP BY l.workflow_id
), heads AS (
    SELECT workflow_id, max(seq) AS head FROM events
    WHERE workflow_id IN (SELECT workflow_id FROM parked) GROUP BY workflow_id
)
SELECT p.workflow_id, p.detail FROM parked AS p JOIN heads AS h USING (workflow_id)
WHERE TRY_CAST(json_extract_string(p.detail, '$.head') AS BIGINT) = h.head
"""
"""Running workflows whose last suspension is also their last word (one query at start-up;
replaced by the store's own role once it has one)."""
