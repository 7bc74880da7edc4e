"""``aion.connect()``: the user's way into the engine on Ray (design in the README).

``connect`` starts local Ray if this process has none (``address="local"``: a stale cluster
file cannot hang it) or joins ``address``, then finds or creates the engine's detached actors
in ``namespace``: the store actor over ``store_path`` and the registry, which recovers the
store's running workflows on its first start; both run on the store file's node
(``actors.placement``). A second driver connecting to the same
namespace finds the same workflows; it need not name the store, since an engine already
serving the namespace is joined over whatever file it serves. ``connect`` returns once the
client has its first view of the pool, so its starts go straight to hosts.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import ray

from aion_ray.actors.client import Client
from aion_ray.actors.config import (
    DEFAULT_STORE_PATH,
    LOCAL_RAY_CONFIG,
    REGISTRY_NAME,
    STORE_NAME,
    EngineConfig,
)
from aion_ray.actors.placement import open_store, placement
from aion_ray.actors.registry import RegistryActor
from aion_ray.actors.store_actor import HistoryStoreActor
from aion_ray.actors.stubs import RegistryStub, StoreStub
from aion_ray.errors import InvalidInputError, StoreError
from aion_ray.model.payload import DEFAULT_MAX_PAYLOAD_BYTES

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
    store_resource: str | None = None,
) -> Client:
    """Connect to (or start) the engine; see the module docstring. ``pool_size`` defaults
    to (2, twice the cluster's CPUs, at least 4 and at most 32). ``store_resource`` names
    the custom resource of the node holding the store file (default: this driver's node)."""
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
        store_resource=store_resource,
    )
    if not ray.is_initialized():
        ray.init(
            address=address or "local", namespace=namespace, log_to_driver=False, **_tuned(address)
        )
    if pool_size is None:
        config = dataclasses.replace(config, pool_max=default_pool_max())
    where = placement(store_resource)
    store, created = _store_actor(namespace, config.store_path, where)
    # A store made now serves config's path: the registry's process starts beside its own.
    early = _registry(namespace, config, where) if created else None
    config = dataclasses.replace(
        config, store_path=_served(store, config.store_path, asked=wanted is not None)
    )
    registry = early or _registry(namespace, config, where)
    registry.ready().get()
    client = Client(config, store, registry)
    client.router.wait(ROUTES_TIMEOUT)  # the first view of the pool, so starts go direct
    return client


def _tuned(address: str | None) -> dict[str, Any]:
    """Ray's settings for a cluster this call starts (none for one it joins)."""
    return {"_system_config": LOCAL_RAY_CONFIG} if address in (None, "local") else {}


def _store_path(store_path: object) -> str | None:
    """The absolute store path asked for, or None when the caller named none."""
    if store_path is None:
        return None
    if not isinstance(store_path, str | os.PathLike) or not os.fspath(store_path):
        raise InvalidInputError(f"store_path must be a non-empty path, got {store_path!r}")
    return os.path.abspath(os.fspath(store_path))


def _registry(namespace: str, config: EngineConfig, where: dict[str, Any]) -> RegistryStub:
    """The namespace's registry: the running one, or one made now over ``config``."""
    made = _system_actor(RemoteRegistry, REGISTRY_NAME, namespace, config, where=where)
    return RegistryStub(namespace, made)


def _store_actor(namespace: str, path: str, where: dict[str, Any]) -> tuple[StoreStub, bool]:
    """The namespace's store actor, and whether this call created it (over ``path``). With
    none running, the file is opened (created if need be) on its node first, and one is
    created over it, ``where`` it was opened, with the store's id: Ray restarts it with the
    same arguments, so a restart opens that store or fails saying why
    (``HistoryStoreActor``), never an empty one. A file that cannot be opened is the caller's
    StoreError, nothing created. If another driver won the race, its store is joined (and
    ``_served`` judges it like one found running)."""
    handle = _running_actor(STORE_NAME, namespace)
    if handle is not None:
        return StoreStub(namespace, handle), False
    try:
        store_id = open_store(path, where)
    except StoreError:
        handle = _running_actor(STORE_NAME, namespace)  # another driver's holds the file?
        if handle is None:
            raise
        return StoreStub(namespace, handle), False
    handle = _system_actor(
        RemoteStore, STORE_NAME, namespace, path, store_id, where=where, retried=True
    )
    return StoreStub(namespace, handle), True


def _served(store: StoreStub, path: str, *, asked: bool) -> str:
    """The path ``store`` serves, once it answers. A store is joined over any file when the
    caller named none (``asked`` False), else only over ``path`` (InvalidInputError
    otherwise: two files would split the namespace's histories)."""
    served: str = store.ping().get()
    if asked and served != path:
        raise InvalidInputError(
            f"namespace {store.namespace!r} is served by the store at {served}, not {path}; "
            "connect with that store_path, with none, or with another namespace"
        )
    return served


def _running_actor(name: str, namespace: str) -> Any:
    """The live named actor, or None if the namespace has none by that name."""
    try:
        return ray.get_actor(name, namespace=namespace)
    except ValueError:  # Ray's answer for "no such actor"
        return None


MAX_DEFAULT_POOL = 32
ROUTES_TIMEOUT = 10.0
"""Seconds ``connect`` waits for the first view of the pool (starts go to the registry
until it comes)."""


def default_pool_max() -> int:
    """The default ceiling of the pool: twice the cluster's CPUs (at least 4, at most 32).
    Workflow actors take no CPU from Ray's scheduler, but each busy one takes CPU from the
    node, so more actors than cores run a burst slower (CHANGELOG, session 6)."""
    cpus = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
    return max(4, min(MAX_DEFAULT_POOL, 2 * cpus))


def _system_actor(
    remote: Any, name: str, namespace: str, *args: Any, where: dict[str, Any], retried: bool = False
) -> Any:
    """A detached system actor, restarted by Ray when it dies, placed ``where`` the store is.
    ``retried``: every call is idempotent (the store's), so Ray holds the calls made while
    the actor restarts and sends again the ones its death interrupted, to the new instance
    (methods that must not be repeated opt out with ``ray.method(max_task_retries=0)``)."""
    return remote.options(
        name=name,
        namespace=namespace,
        lifetime="detached",
        get_if_exists=True,
        num_cpus=0,
        max_concurrency=10_000,
        max_restarts=-1,
        max_task_retries=-1 if retried else 0,
        **where,
    ).remote(*args)
