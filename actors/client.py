"""``aion.connect()`` and the Client: the user's way into the engine on Ray (design §3).

``connect`` starts local Ray if this process has none (``address="local"``: a stale cluster
file cannot hang it) or joins ``address``, then finds or creates the engine's detached actors
in ``namespace``: the store actor over ``store_path`` and the registry, which recovers the
store's running workflows on its first start. A second driver connecting to the same
namespace finds the same workflows; it need not name the store, since an engine already
serving the namespace is joined over whatever file it serves.
"""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
import os
from typing import Any

import ray

from aion_ray.actors.calls import call, get, in_background
from aion_ray.actors.config import DEFAULT_STORE_PATH, REGISTRY_NAME, STORE_NAME, EngineConfig
from aion_ray.actors.handle import WorkflowHandle
from aion_ray.actors.registry import RegistryActor, Started, StartSpec
from aion_ray.actors.result_stream import ResultStream
from aion_ray.actors.store_actor import HistoryStoreActor
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.display.infos import WorkflowList
from aion_ray.engine.starts import encode_input
from aion_ray.errors import AionError, InvalidInputError, WorkflowNotFoundError
from aion_ray.model import events as ev
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.ids import new_workflow_id, validate_workflow_id
from aion_ray.model.payload import DEFAULT_MAX_PAYLOAD_BYTES
from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo

RemoteStore = ray.remote(HistoryStoreActor)
RemoteRegistry = ray.remote(RegistryActor)


def connect(
    address: str | None = None,
    store_path: str | os.PathLike[str] | None = None,
    namespace: str = "aion",
    idle_timeout: float = 30.0,
    workflows_per_actor: int = 1,
    pool_size: tuple[int, int] | None = None,
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    restart_limit: tuple[int, float] = (5, 60.0),
) -> Client:
    """Connect to (or start) the engine; see the module docstring. ``pool_size`` defaults
    to (2, twice the cluster's CPUs, at least 4 and at most 32)."""
    if pool_size is not None and (not isinstance(pool_size, tuple) or len(pool_size) != 2):
        raise InvalidInputError(f"pool_size must be a (min, max) tuple, got {pool_size!r}")
    sized = pool_size or (2, MAX_DEFAULT_POOL)
    wanted = _store_path(store_path)
    config = EngineConfig(
        namespace=namespace,
        store_path=wanted or os.path.abspath(DEFAULT_STORE_PATH),
        idle_timeout=idle_timeout,
        workflows_per_actor=workflows_per_actor,
        pool_min=sized[0],
        pool_max=sized[1],
        max_payload_bytes=max_payload_bytes,
        restart_limit=restart_limit,
    )
    if not ray.is_initialized():
        ray.init(address=address or "local", namespace=namespace, log_to_driver=False)
    if pool_size is None:
        config = dataclasses.replace(config, pool_max=default_pool_max())
    store, served = _attach_store(namespace, config.store_path, asked=wanted is not None)
    config = dataclasses.replace(config, store_path=served)
    registry = _system_actor(RemoteRegistry, REGISTRY_NAME, namespace, config)
    get(registry.ready.remote(), REGISTRY_NAME)
    return Client(config, store, registry)


def _store_path(store_path: object) -> str | None:
    """The absolute store path asked for, or None when the caller named none."""
    if store_path is None:
        return None
    if not isinstance(store_path, str | os.PathLike) or not os.fspath(store_path):
        raise InvalidInputError(f"store_path must be a non-empty path, got {store_path!r}")
    return os.path.abspath(os.fspath(store_path))


def _attach_store(namespace: str, path: str, *, asked: bool) -> tuple[Any, str]:
    """The namespace's store actor and the path it serves. One that already runs is joined:
    over any file when the caller named none (``asked`` False), else only over ``path``
    (InvalidInputError otherwise: two files would split the namespace's histories). With none
    running, one is created over ``path``; if another driver won that race, its store is
    judged like one found running."""
    store = _running_actor(STORE_NAME, namespace)
    if store is None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        store = _system_actor(RemoteStore, STORE_NAME, namespace, path)
    served: str = get(store.ping.remote(), STORE_NAME)
    if asked and served != path:
        raise InvalidInputError(
            f"namespace {namespace!r} is served by the store at {served}, not {path}; "
            "connect with that store_path, with none, or with another namespace"
        )
    return store, served


def _running_actor(name: str, namespace: str) -> Any:
    """The live named actor, or None if the namespace has none by that name."""
    try:
        return ray.get_actor(name, namespace=namespace)
    except ValueError:  # Ray's answer for "no such actor"
        return None


MAX_DEFAULT_POOL = 32


def default_pool_max() -> int:
    """The default ceiling of the pool: twice the cluster's CPUs (at least 4, at most 32).
    Workflow actors take no CPU from Ray's scheduler, but each busy one takes CPU from the
    node: on 2 cores, 1000 concurrent one-step workflows at workflows_per_actor=1 completed
    at 74 wf/s with at most 4 actors, 63 wf/s with 16 and 40 wf/s with 32."""
    cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
    return max(4, min(MAX_DEFAULT_POOL, 2 * cpus))


def _system_actor(remote: Any, name: str, namespace: str, *args: Any) -> Any:
    return remote.options(
        name=name,
        namespace=namespace,
        lifetime="detached",
        get_if_exists=True,
        num_cpus=0,
        max_concurrency=10_000,
    ).remote(*args)


class Client:
    """Starts and finds workflows; ``*_async`` twins for notebooks and services."""

    def __init__(self, config: EngineConfig, store: Any, registry: Any) -> None:
        self.config = config
        self.store = store
        self.registry = registry
        self._batch: list[tuple[StartSpec, asyncio.Future[Started | AionError]]] = []
        self.results = ResultStream(registry)
        self._sending: set[asyncio.Task[None]] = set()  # held: the loop keeps weak refs

    # --- starting ------------------------------------------------------------------------------

    def start(
        self,
        workflow: WorkflowDefinition[Any],
        arg: Any = None,
        *,
        id: str | None = None,
        search_attributes: dict[str, ev.SearchAttributeValue] | None = None,
        new_run: bool = False,
    ) -> WorkflowHandle[Any]:
        """Start ``workflow`` (idempotent by id: a running id returns its handle; a finished
        one raises WorkflowAlreadyStartedError, or with ``new_run`` starts another run of
        it under the same id). Durable when this returns."""
        spec = self._spec(workflow, arg, id, search_attributes, new_run)
        [reply] = get(self.registry.start.remote([spec]), REGISTRY_NAME)
        return self._handle(spec, reply)

    async def start_async(
        self,
        workflow: WorkflowDefinition[Any],
        arg: Any = None,
        *,
        id: str | None = None,
        search_attributes: dict[str, ev.SearchAttributeValue] | None = None,
        new_run: bool = False,
    ) -> WorkflowHandle[Any]:
        """``start`` for asyncio; concurrent calls share one registry call."""
        spec = self._spec(workflow, arg, id, search_attributes, new_run)
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Started | AionError] = loop.create_future()
        if not self._batch:
            loop.call_soon(lambda: in_background(self._sending, self._send_batch()))
        self._batch.append((spec, reply))
        return self._handle(spec, await reply)

    async def _send_batch(self) -> None:
        batch, self._batch = self._batch, []
        try:
            replies = await call(self.registry.start.remote([s for s, _ in batch]), REGISTRY_NAME)
        except AionError as exc:
            replies = [exc] * len(batch)
        for (_, future), reply in zip(batch, replies, strict=True):
            if not future.done():
                future.set_result(reply)

    def _spec(
        self,
        workflow: WorkflowDefinition[Any],
        arg: Any,
        workflow_id: str | None,
        search_attributes: dict[str, ev.SearchAttributeValue] | None,
        new_run: bool,
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
        return StartSpec(wid, workflow, payload, search_attributes, new_run)

    def _handle(self, spec: StartSpec, reply: Started | AionError) -> WorkflowHandle[Any]:
        if isinstance(reply, AionError):
            raise reply
        return WorkflowHandle(self, spec.workflow_id, spec.definition, reply.run_id, reply.host)

    # --- finding -------------------------------------------------------------------------------

    def get(self, workflow_id: str) -> WorkflowHandle[Any]:
        """A handle for an existing workflow; WorkflowNotFoundError if there is none."""
        wid = validate_workflow_id(workflow_id)
        if get(self.store.workflow_info.remote(wid), STORE_NAME) is None:
            raise WorkflowNotFoundError(wid)
        return WorkflowHandle(self, wid)

    async def get_async(self, workflow_id: str) -> WorkflowHandle[Any]:
        wid = validate_workflow_id(workflow_id)
        if await call(self.store.workflow_info.remote(wid), STORE_NAME) is None:
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
        flt = _filter(status, workflow_type, search_attributes, limit)
        infos: list[WorkflowInfo] = get(self.registry.list_workflows.remote(flt), REGISTRY_NAME)
        return WorkflowList(infos)

    async def list_async(self, **conditions: Any) -> WorkflowList:
        flt = _filter(**conditions)
        infos: builtins.list[WorkflowInfo] = await call(
            self.registry.list_workflows.remote(flt), REGISTRY_NAME
        )
        return WorkflowList(infos)

    def sql(self, query: str) -> Any:
        """Run a read-only SQL query over the history tables; a pyarrow Table."""
        _check_query(query)
        return get(self.store.sql.remote(query), STORE_NAME)

    async def sql_async(self, query: str) -> Any:
        _check_query(query)
        return await call(self.store.sql.remote(query), STORE_NAME)

    def shutdown(self) -> None:
        """Stop this namespace's engine actors; every history stays in the store file, and
        the next ``connect`` picks the running workflows up."""
        get(self.registry.shutdown.remote(), REGISTRY_NAME)
        ray.kill(self.registry, no_restart=True)
        get(self.store.close.remote(), STORE_NAME)
        ray.kill(self.store, no_restart=True)


def _filter(
    status: str | WorkflowStatus | None = None,
    workflow_type: str | None = None,
    search_attributes: dict[str, ev.SearchAttributeValue] | None = None,
    limit: int | None = None,
) -> WorkflowFilter:
    try:
        return WorkflowFilter(
            status=(WorkflowStatus(status),) if status is not None else None,
            workflow_type=workflow_type,
            search_attributes=search_attributes or {},
            limit=limit,
        )
    except ValueError as exc:
        raise InvalidInputError(f"invalid list filter: {exc}") from exc


def _check_query(query: object) -> None:
    if not isinstance(query, str) or not query.strip():
        raise InvalidInputError(f"sql needs a non-empty query string, got {query!r}")
