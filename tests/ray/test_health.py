"""``client.health()`` on a live engine, with the registry gone, and after it restarted."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from tests.ray import workflows as wf
from tests.ray.conftest import Connect

pytestmark = pytest.mark.ray


def _until(done: object, what: str) -> None:
    deadline = time.monotonic() + 60
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_health_reports_the_actors_the_pool_and_the_workflows(connect: Connect) -> None:
    client = connect(pool_size=(2, 4))
    done = client.start(wf.answers, 1)
    done.signal("add", 1)
    assert done.result(timeout=60) == 3
    waiting = client.start(wf.answers, 2)
    _until(lambda: client.health().resident == 1, "the waiting workflow is never resident")

    health = client.health()
    assert health.ok
    assert health.store.path == client.config.store_path
    assert health.store.size_bytes > 0
    assert health.store.commit_ms is not None
    assert health.store.commit_ms > 0
    assert health.store.appends >= 4  # two appends per one-step workflow at least
    assert health.registry.pid is not None
    assert not health.registry.restarted
    assert health.pool is not None
    assert 1 <= health.pool.busy <= health.pool.hosts <= 4
    assert (health.resident, health.suspended) == (1, 0)
    assert health.to_dict()["ok"] is True
    assert asyncio.run(client.health_async()).resident == 1

    os.kill(health.registry.pid, signal.SIGKILL)  # Ray makes the registry again
    _until(lambda: client.health().registry.restarted, "the registry never came back")
    again = client.health()
    assert again.registry.pid != health.registry.pid
    assert again.resident == 1  # it re-attached to the host that holds the workflow
    waiting.signal("add", 0)
    assert waiting.result(timeout=60) == 4


def test_health_says_which_actor_cannot_be_reached(connect: Connect) -> None:
    client = connect(pool_size=(2, 4))
    client.registry.kill()
    health = client.health()
    assert not health.ok
    assert not health.registry.reachable
    assert health.registry.error is not None
    assert "aion-registry" in health.registry.error
    assert health.store.reachable
    assert (health.pool, health.resident, health.suspended) == (None, None, None)
    assert not asyncio.run(client.health_async()).registry.reachable
