"""Node loss on a Ray cluster of its own, and the pool's ceiling through failed and pending
actor creations: no workflow actor outlives a failed spawn or goes uncounted."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import ray

from aion_ray.actors import ports
from aion_ray.actors.config import EngineConfig

pytestmark = pytest.mark.ray
SCRIPTS = Path(__file__).parent / "scripts"
ROOT = Path(__file__).resolve().parents[2]


class NeverReady:
    """Stands in for a workflow actor whose start never completes."""

    def __init__(self, *args: Any) -> None:
        pass

    async def ready(self) -> str:
        await asyncio.sleep(3600)
        return ""


def _gone(name: str, namespace: str) -> bool:
    """Whether no live actor holds ``name`` (waiting a little: a kill is asynchronous)."""
    for _ in range(100):
        try:
            ray.get_actor(name, namespace=namespace)
        except ValueError:
            return True
        time.sleep(0.1)
    return False


def test_a_spawn_that_is_not_ready_in_time_leaves_no_actor(
    ray_cluster: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(ports, "RemoteWorkflowActor", ray.remote(NeverReady))
    monkeypatch.setattr(ports, "SPAWN_TIMEOUT", 2.0)
    fleet = ports.RayFleet(EngineConfig("never-ready", str(tmp_path / "h.duckdb")))
    with pytest.raises(TimeoutError):
        asyncio.run(fleet.spawn("aion-host-never"))
    assert _gone("aion-host-never", "never-ready")


def test_found_actors_that_do_not_answer_are_killed_not_left_outside_the_pool(
    ray_cluster: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(ports, "FOUND_TIMEOUT", 1.0)
    remote: Any = ray.remote(NeverReady)
    remote.options(name="aion-host-silent", namespace="silent", lifetime="detached").remote()
    fleet = ports.RayFleet(EngineConfig("silent", str(tmp_path / "h.duckdb")))
    assert asyncio.run(fleet.running()) == []
    assert _gone("aion-host-silent", "silent")


def test_losing_a_worker_node_loses_no_workflow_and_the_pool_keeps_its_ceiling(
    tmp_path: Path,
) -> None:
    """On a cluster of its own (a subprocess): four workflows whose activities need the
    worker node's resource; the node is removed mid-activity and a fresh one added."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RAY_ADDRESS", None)
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "node_loss.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=150,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["results"] == ["long ran 2 times"] * 4  # the interrupted attempt retried
    for runs in report["runs"].values():
        assert runs == {"first": 1, "long": 2}  # no completed activity ran again
    assert 0 < report["most_hosts"] <= report["ceiling"], report
    # The store and the registry run on the node named by connect(store_resource=...).
    assert report["system_nodes"] == {"aion-store": True, "aion-registry": True}
    assert report["registry_restarted"] is False
    # With no store_resource, they run on the driver's node (a head with no CPUs here).
    assert report["default_nodes"] == {"aion-store": True, "aion-registry": True}
