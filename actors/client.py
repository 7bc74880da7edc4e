"""The Client: starts and finds workflows, with ``_async`` twins (``aion.connect`` makes
one, see ``actors.connect``). Starts go straight to hosts (``starter``) when one has room,
else to the registry; reads go to the store actor."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, TypeVar

import ray

from aion_ray.actors import schedules_client
from aion_ray.actors.config import HOST_PREFIX, REGISTRY_NAME, EngineConfig
from aion_ray.actors.handle import WorkflowHandle
from aion_ray.actors.health import health, health_async
from aion_ray.actors.locate import Locator
from aion_ray.actors.many import apply_many, apply_many_async
from aion_ray.actors.registry import Started, StartSpec
from aion_ray.actors.result_stream import ResultStream
from aion_ray.actors.router import Router
from aion_ray.actors.starter import Starter
from aion_ray.actors.stubs import RegistryStub, StoreStub
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.control.tasks import Background
from aion_ray.display.infos import WorkflowList
from aion_ray.engine.bulk import Status, list_filter
from aion_ray.engine.starts import encode_input
from aion_ray.errors import (
    AionError,
    EngineUnavailableError,
    InvalidInputError,
    WorkflowNotFoundError,
)
from aion_ray.model import events as ev
from aion_ray.model.health import Health
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.ids import new_workflow_id, validate_workflow_id

R = TypeVar("R")


class Client:
    """Starts and finds workflows; ``*_async`` twins for notebooks and services."""

    def __init__(self, config: EngineConfig, store: StoreStub, registry: RegistryStub) -> None:
        self.config = config
        self.store = store
        self.registry = registry
        self._batch: list[tuple[StartSpec, asyncio.Future[Started | AionError]]] = []
        self.results = ResultStream(registry)
        self._sending = Background()
        self.router = Router(registry)
        self.locator = Locator(registry, self.router)
        self._starter = Starter(self.router, store, config.workflows_per_actor)

    # --- starting ------------------------------------------------------------------------------

    def start(
        self,
        workflow: WorkflowDefinition[R],
        arg: Any = None,
        *,
        id: str | None = None,
        search_attributes: dict[str, ev.SearchAttributeValue] | None = None,
        new_run: bool = False,
        execution_timeout: float | None = None,
    ) -> WorkflowHandle[R]:
        """Start ``workflow`` (idempotent by id: a running id returns its handle; a finished
        one raises WorkflowAlreadyStartedError, or with ``new_run`` starts another run of
        it under the same id). Durable when this returns. It goes straight to a host with
        room; the registry places it only when none has room or the id exists.
        ``execution_timeout`` (seconds) bounds this run, overriding the workflow's ``timeout``:
        past it the run is timed out (WorkflowTimedOutError) and its attempts cancelled."""
        spec = self._spec(workflow, arg, id, search_attributes, new_run, execution_timeout)
        reply = self._starter.start(spec)
        if reply is None:
            [reply] = self.registry.start([spec]).get()
        return self._handle(spec, reply)

    async def start_async(
        self,
        workflow: WorkflowDefinition[R],
        arg: Any = None,
        *,
        id: str | None = None,
        search_attributes: dict[str, ev.SearchAttributeValue] | None = None,
        new_run: bool = False,
        execution_timeout: float | None = None,
    ) -> WorkflowHandle[R]:
        """``start`` for asyncio; concurrent calls share one call per host (or registry)."""
        spec = self._spec(workflow, arg, id, search_attributes, new_run, execution_timeout)
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Started | AionError] = loop.create_future()
        if not self._batch:
            loop.call_soon(lambda: self._sending.run(self._send_batch()))
        self._batch.append((spec, reply))
        return self._handle(spec, await reply)

    async def _send_batch(self) -> None:
        batch, self._batch = self._batch, []
        specs = [spec for spec, _ in batch]
        try:
            replies = await self._starter.start_many(specs)
        except AionError as exc:
            replies = [exc] * len(batch)
        except Exception as exc:  # every caller in the batch must hear back
            replies = [EngineUnavailableError("client", f"{type(exc).__name__}: {exc}")] * len(
                batch
            )
        placing = [i for i, reply in enumerate(replies) if reply is None]
        if placing:
            placed: list[Started | AionError]
            try:
                placed = await self.registry.start([specs[i] for i in placing])
            except AionError as exc:
                placed = [exc] * len(placing)
            for index, answer in zip(placing, placed, strict=True):
                replies[index] = answer
        for (_, future), reply in zip(batch, replies, strict=True):
            if not future.done():
                future.set_result(reply if reply is not None else _unplaced())

    def _spec(
        self,
        workflow: WorkflowDefinition[Any],
        arg: Any,
        workflow_id: str | None,
        search_attributes: dict[str, ev.SearchAttributeValue] | None,
        new_run: bool,
        execution_timeout: float | None = None,
    ) -> StartSpec:
        """Check and encode a start here, before anything is sent: bad input writes nothing."""
        if not isinstance(workflow, WorkflowDefinition):
            raise InvalidInputError(
                f"start needs a function decorated with @aion.workflow, got {workflow!r}"
            )
        if search_attributes is not None and not isinstance(search_attributes, dict):
            raise InvalidInputError(f"search_attributes must be a dict, got {search_attributes!r}")
        if not isinstance(new_run, bool):
            raise InvalidInputError(f"new_run must be True or False, got {new_run!r}")
        payload = encode_input(workflow, arg, self.config.max_payload_bytes)
        wid = validate_workflow_id(workflow_id) if workflow_id is not None else new_workflow_id()
        return StartSpec(wid, workflow, payload, search_attributes, new_run, execution_timeout)

    def _handle(self, spec: StartSpec, reply: Started | AionError) -> WorkflowHandle[Any]:
        if isinstance(reply, AionError):
            raise reply
        return WorkflowHandle(self, spec.workflow_id, spec.definition, reply.run_id, reply.host)

    # --- finding -------------------------------------------------------------------------------

    def get(self, workflow_id: str) -> WorkflowHandle[Any]:
        """A handle for an existing workflow; WorkflowNotFoundError if there is none."""
        wid = validate_workflow_id(workflow_id)
        if self.store.workflow_info(wid).get() is None:
            raise WorkflowNotFoundError(wid)
        return WorkflowHandle(self, wid)

    async def get_async(self, workflow_id: str) -> WorkflowHandle[Any]:
        wid = validate_workflow_id(workflow_id)
        if await self.store.workflow_info(wid) is None:
            raise WorkflowNotFoundError(wid)
        return WorkflowHandle(self, wid)

    def list(
        self,
        *,
        status: str | WorkflowStatus | None = None,
        workflow_type: str | None = None,
        search_attributes: dict[str, ev.SearchAttributeValue] | None = None,
        limit: int | None = None,
    ) -> WorkflowList:
        """Workflows matching every condition given, oldest first: a list of WorkflowInfo
        that renders as a table in a notebook."""
        flt = list_filter(status, workflow_type, search_attributes, limit)
        return WorkflowList(self.registry.list_workflows(flt).get())

    async def list_async(self, **conditions: Any) -> WorkflowList:
        flt = list_filter(**conditions)
        return WorkflowList(await self.registry.list_workflows(flt))

    # --- operator verbs over many workflows (see ``actors.many``) ------------------------------

    def terminate_many(
        self, *, status: Status = None, workflow_type: str | None = None, reason: str = "terminated"
    ) -> int:
        """Terminate every open workflow the filter matches; how many were terminated."""
        return apply_many(self, "terminate", status, workflow_type, reason)

    def cancel_many(
        self, *, status: Status = None, workflow_type: str | None = None, reason: str = "cancelled"
    ) -> int:
        """Request cancellation of every open workflow the filter matches; how many."""
        return apply_many(self, "cancel", status, workflow_type, reason)

    def pause_many(
        self, *, status: Status = None, workflow_type: str | None = None, reason: str = "paused"
    ) -> int:
        """Pause every running workflow the filter matches; how many were paused."""
        return apply_many(self, "pause", status, workflow_type, reason)

    def resume_many(self, *, status: Status = None, workflow_type: str | None = None) -> int:
        """Resume every paused workflow the filter matches; how many were resumed."""
        return apply_many(self, "resume", status, workflow_type, None)

    def reopen_many(self, *, status: Status = None, workflow_type: str | None = None) -> int:
        """Reopen every failed, cancelled, timed-out or terminated run the filter matches."""
        return apply_many(self, "reopen", status, workflow_type, None)

    async def terminate_many_async(
        self, *, status: Status = None, workflow_type: str | None = None, reason: str = "terminated"
    ) -> int:
        return await apply_many_async(self, "terminate", status, workflow_type, reason)

    async def cancel_many_async(
        self, *, status: Status = None, workflow_type: str | None = None, reason: str = "cancelled"
    ) -> int:
        return await apply_many_async(self, "cancel", status, workflow_type, reason)

    async def pause_many_async(
        self, *, status: Status = None, workflow_type: str | None = None, reason: str = "paused"
    ) -> int:
        return await apply_many_async(self, "pause", status, workflow_type, reason)

    async def resume_many_async(
        self, *, status: Status = None, workflow_type: str | None = None
    ) -> int:
        return await apply_many_async(self, "resume", status, workflow_type, None)

    async def reopen_many_async(
        self, *, status: Status = None, workflow_type: str | None = None
    ) -> int:
        return await apply_many_async(self, "reopen", status, workflow_type, None)

    # schedules (``client.schedule(...)`` -> ScheduleHandle): see ``actors.schedules_client``
    schedule = schedules_client.schedule
    schedule_async = schedules_client.schedule_async
    get_schedule = schedules_client.get_schedule
    get_schedule_async = schedules_client.get_schedule_async
    list_schedules = schedules_client.list_schedules
    list_schedules_async = schedules_client.list_schedules_async

    def sql(self, query: str) -> Any:
        """Run a read-only SQL query over the history tables; a pyarrow Table."""
        _check_query(query)
        return self.store.sql(query).get()

    async def sql_async(self, query: str) -> Any:
        _check_query(query)
        return await self.store.sql(query)

    def health(self) -> Health:
        """The registry, the store (path, size, commit time), the pool (hosts, busy, idle),
        how many workflows are resident and suspended, and the restarts seen. An actor that
        does not answer within 5 s is reported unreachable, not raised."""
        return health(self.registry, self.store, self.router, self.config.store_path)

    async def health_async(self) -> Health:
        return await health_async(self.registry, self.store, self.router, self.config.store_path)

    def shutdown(self) -> None:
        """Stop this namespace's engine actors; every history stays in the store file, and
        the next ``connect`` picks the running workflows up. With the registry gone, its
        hosts are found by name and stopped."""
        self.router.close()
        try:
            self.registry.shutdown().get()
            self.registry.kill()
        except AionError:
            _stop_hosts(self.config.namespace)
        try:
            self.store.close().get()
        finally:  # a store that failed to close is stopped all the same
            self.store.kill()


def _check_query(query: object) -> None:
    if not isinstance(query, str) or not query.strip():
        raise InvalidInputError(f"sql needs a non-empty query string, got {query!r}")


def _unplaced() -> AionError:
    return EngineUnavailableError(REGISTRY_NAME, "a start was left without a reply")


def _stop_hosts(namespace: str) -> None:
    """Kill the namespace's workflow actors by name (their registry is gone)."""
    for actor in ray.util.list_named_actors(all_namespaces=True):
        if actor["namespace"] == namespace and actor["name"].startswith(HOST_PREFIX):
            with contextlib.suppress(ValueError):  # it ended meanwhile
                ray.kill(ray.get_actor(actor["name"], namespace=namespace), no_restart=True)
