"""Where the store actor and the registry run: on the node that holds the store file.

By default that is the driver's node (the one ``connect`` runs on): both actors are pinned to
it (``NodeAffinitySchedulingStrategy``, not soft), so a restart never moves them to a node
where the store's path holds nothing. ``connect(store_resource="name")`` places them instead
on a node with that custom resource (name one node only: the store file is on it). Before the
store actor is made, ``open_store`` opens the file there, creating it if needed: its id goes
into the actor's arguments, and an open that fails is the caller's StoreError, with nothing
left behind.
"""

from __future__ import annotations

import os
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from aion_ray.errors import InvalidInputError, StoreError
from aion_ray.storage.duckdb.identity import read_id
from aion_ray.storage.duckdb.maintenance import open_database

RESOURCE_SHARE = 0.001
"""The amount of ``store_resource`` each system actor asks for: a marker, not a budget."""
OPEN_TIMEOUT = 60.0
"""Seconds ``connect`` waits for the store file to be opened on its node."""


def placement(store_resource: str | None) -> dict[str, Any]:
    """Ray options that place a system actor (or the opening task) on the store's node."""
    if store_resource is None:
        node = ray.get_runtime_context().get_node_id()
        return {"scheduling_strategy": NodeAffinitySchedulingStrategy(node, soft=False)}
    if ray.cluster_resources().get(store_resource, 0) <= 0:  # type: ignore[no-untyped-call]
        raise InvalidInputError(
            f"store_resource {store_resource!r}: no node of the cluster has that resource"
        )
    return {"resources": {store_resource: RESOURCE_SHARE}}


def open_store(path: str, where: dict[str, Any]) -> str:
    """Open (create if needed) the store file at ``path`` on the node ``where`` names, and
    return its store id; StoreError naming the path and the cause if it cannot be opened."""
    ref = _open_store.options(**where).remote(path)
    try:
        store_id: str = ray.get(ref, timeout=OPEN_TIMEOUT)
    except ray.exceptions.GetTimeoutError:
        ray.cancel(ref, force=True)
        raise StoreError(
            f"cannot open history store {path!r}: no node to open it on within {OPEN_TIMEOUT:.0f}s"
        ) from None
    except ray.exceptions.RayTaskError as exc:
        if isinstance(exc.cause, StoreError):
            raise exc.cause from None
        raise StoreError(f"cannot open history store {path!r}: {exc.cause!r}") from None
    return store_id


@ray.remote(num_cpus=0, max_retries=0)
def _open_store(path: str) -> str:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot open history store {path!r}: {exc}") from exc
    con, _ = open_database(path)
    try:
        return read_id(con)
    finally:
        con.close()
