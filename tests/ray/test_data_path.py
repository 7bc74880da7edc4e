"""The data path: starts go from the client straight to a host (no registry call), and with
the registry killed for good, a connected client keeps starting, signalling, querying and
awaiting workflows on the warm pool."""

from __future__ import annotations

import time
from typing import Any

import pytest

from aion_ray.model import events as ev
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.visibility import WorkflowFilter
from tests.ray import workflows as wf
from tests.ray.conftest import Connect

pytestmark = pytest.mark.ray


def registry_calls(client: object) -> dict[str, int]:
    stats: dict[str, dict[str, int]] = client.registry.stats().get()  # type: ignore[attr-defined]
    return stats["registry"]


def _sees_warm_pool(client: Any, hosts: int) -> None:
    """Wait until the client's view holds the pool's warm floor (connect() returns before
    the pool is warm)."""
    deadline = time.monotonic() + 60
    while client.router.hosts() < hosts:
        assert time.monotonic() < deadline, "the pool did not warm within 60 s"
        time.sleep(0.05)


def _run_one(client: object, n: int) -> int:
    handle = client.start(wf.answers, n)  # type: ignore[attr-defined]
    assert handle.query("n") == n
    handle.signal("add", 1)
    result: int = handle.result(timeout=60)
    return result


def test_a_start_on_a_warm_pool_makes_no_registry_start_call(connect: Connect) -> None:
    client = connect(pool_size=(3, 6))
    assert _run_one(client, 1) == 3
    _sees_warm_pool(client, 3)
    before = registry_calls(client)
    assert [_run_one(client, n) for n in (2, 3, 4)] == [5, 7, 9]
    after = registry_calls(client)
    for method in ("start", "result", "results", "signal", "query"):
        assert after.get(method, 0) == before.get(method, 0), method
    assert after.get("placed", 0) > before.get("placed", 0)  # the hosts told it, one-way


def test_the_engine_keeps_serving_with_the_registry_killed_for_good(connect: Connect) -> None:
    client = connect(pool_size=(4, 8))
    assert _run_one(client, 0) == 1
    _sees_warm_pool(client, 4)  # a client connected a moment ago
    client.registry.kill()
    served: list[int] = []
    until = time.monotonic() + 30.0
    while time.monotonic() < until:
        n = len(served) + 1
        assert _run_one(client, n) == 2 * n + 1
        served.append(n)
    assert len(served) >= 10
    infos = client.store.list_workflows(WorkflowFilter(workflow_type="answers")).get()
    assert len(infos) == len(served) + 1
    assert all(info.status is WorkflowStatus.COMPLETED for info in infos)
    for info in infos:
        events = client.store.read_history(info.workflow_id).get()
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert sum(isinstance(e, ev.WorkflowCompleted) for e in events) == 1
