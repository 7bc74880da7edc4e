"""Node loss on a cluster of its own (``ray.cluster_utils.Cluster``).

    python node_loss.py <directory>

A head node (the driver's), a node with the ``aion-store`` resource (``connect`` names it:
the store and the registry run there) and a worker node with a ``worker`` resource; four
workflows whose activities need that resource. Once each workflow's second activity runs,
the worker node is removed and a fresh one with the same resource added. It prints one
JSON line: the results, how many times each activity ran, the most ``aion-host-*`` actors
seen at once (alive or pending) and the pool's ceiling, the host deaths the registry saw,
whether it restarted, where the system actors run, and, for a second engine connected
with no ``store_resource``, whether its system actors run on the driver's node.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ray
from ray.cluster_utils import Cluster

import aion_ray as aion
from tests.ray.scripts.node_workflows import on_worker

NAMESPACE = "node-loss"
POOL = (1, 4)
STORE_RESOURCE = "aion-store"
WORKFLOWS = 4


class HostCount:
    """The most workflow actors (not dead: alive, pending or restarting) seen at once,
    read from the GCS's actor table twice a second (the cluster runs only this engine)."""

    def __init__(self) -> None:
        self.most = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._done.is_set():
            table = ray._private.state.actors()
            hosts = [
                info
                for info in table.values()
                if info["Name"].startswith("aion-host-") and info["State"] != "DEAD"
            ]
            self.most = max(self.most, len(hosts))
            self._done.wait(0.5)

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.most


def system_nodes(store_node: str) -> dict[str, bool]:
    """For the store actor and the registry: whether they run on ``store_node``."""
    table = ray._private.state.actors()
    return {
        info["Name"]: info["Address"]["NodeID"] == store_node
        for info in table.values()
        if info["Name"] in ("aion-store", "aion-registry") and info["State"] == "ALIVE"
    }


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


def main(directory: Path) -> None:
    # No CPUs on the head (the driver's) or the store's node: Ray places most workflow
    # actors on the worker, so they die with it too.
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False}
    )
    try:
        ray.init(address=cluster.address, namespace=NAMESPACE, log_to_driver=False)
        print(json.dumps(lose_a_node(cluster, directory)), flush=True)
    finally:  # a failed run must leave no cluster behind either
        ray.shutdown()
        cluster.shutdown()  # type: ignore[no-untyped-call]


def lose_a_node(cluster: Cluster, directory: Path) -> dict[str, Any]:
    store_node = cluster.add_node(num_cpus=0, resources={STORE_RESOURCE: 1})
    worker = cluster.add_node(num_cpus=1, resources={"worker": WORKFLOWS})
    client = aion.connect(
        store_path=directory / "history.duckdb",
        namespace=NAMESPACE,
        pool_size=POOL,
        store_resource=STORE_RESOURCE,
    )
    hosts = HostCount()
    dirs = [directory / f"wf{i}" for i in range(WORKFLOWS)]
    for d in dirs:
        d.mkdir()
    handles = [client.start(on_worker, str(d), id=f"node-{i}") for i, d in enumerate(dirs)]
    wait_until(lambda: all((d / "long").exists() for d in dirs), 60, "the long steps run")
    cluster.remove_node(worker)
    cluster.add_node(num_cpus=1, resources={"worker": WORKFLOWS})
    results = [h.result(timeout=60) for h in handles]
    runs = {
        d.name: {"first": (d / "first").stat().st_size, "long": (d / "long").stat().st_size}
        for d in dirs
    }
    health = client.health()
    report = {
        "results": results,
        "runs": runs,
        "most_hosts": hosts.stop(),
        "ceiling": POOL[1],
        "hosts_died": health.registry.hosts_died,
        "registry_restarted": health.registry.restarted,
        "system_nodes": system_nodes(store_node.node_id),
    }
    client.shutdown()
    report["default_nodes"] = default_placement(directory)
    return report


def default_placement(directory: Path) -> dict[str, bool]:
    """An engine connected with no ``store_resource``: whether its store actor and registry
    run on the driver's node (this head has no CPUs: Ray alone would often pick another)."""
    client = aion.connect(
        store_path=directory / "default.duckdb", namespace="default-placement", pool_size=(0, 1)
    )
    here = ray.get_runtime_context().get_node_id()
    found = {}
    for name in ("aion-store", "aion-registry"):
        actor: Any = ray.get_actor(name, namespace="default-placement")
        where = actor.__ray_call__.remote(lambda _: ray.get_runtime_context().get_node_id())
        found[name] = ray.get(where) == here
    client.shutdown()
    return found


if __name__ == "__main__":
    main(Path(sys.argv[1]))
