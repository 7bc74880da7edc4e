"""Node loss on a cluster of its own (``ray.cluster_utils.Cluster``).

    python node_loss.py <directory>

A head node (the driver's: the store and the registry run there) and a worker node with a
``worker`` resource; four workflows whose activities need that resource. Once each
workflow's second activity runs, the worker node is removed and a fresh one with the same
resource added. It prints one JSON line: the results, how many times each activity ran,
the most ``aion-host-*`` actors seen at once (alive or pending), and the pool's ceiling.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import ray
from ray.cluster_utils import Cluster

import aion_ray as aion
from tests.ray.scripts.node_workflows import on_worker

NAMESPACE = "node-loss"
POOL = (1, 4)
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


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.1)


def main(directory: Path) -> None:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    worker = cluster.add_node(num_cpus=1, resources={"worker": WORKFLOWS})
    ray.init(address=cluster.address, namespace=NAMESPACE, log_to_driver=False)
    client = aion.connect(
        store_path=directory / "history.duckdb", namespace=NAMESPACE, pool_size=POOL
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
    report = {"results": results, "runs": runs, "most_hosts": hosts.stop(), "ceiling": POOL[1]}
    print(json.dumps(report), flush=True)
    client.shutdown()
    ray.shutdown()
    cluster.shutdown()  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main(Path(sys.argv[1]))
