"""Hosting per workflow type: ``@aion.workflow(workflows_per_actor=..., idle_timeout=...)``."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

import aion_ray as aion
from tests.ray import workflows as wf
from tests.ray.conftest import Connect

pytestmark = pytest.mark.ray


def _where(client: aion.Client, handle: aion.WorkflowHandle[object]) -> str | None:
    host: str | None = client.registry.where(handle.workflow_id).get()
    return host


def _eventually(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _finish(handles: list[aion.WorkflowHandle[str]]) -> None:
    for handle in handles:
        handle.signal("go", handle.workflow_id)
    assert [h.result(timeout=30) for h in handles] == [h.workflow_id for h in handles]


def test_a_type_with_its_own_number_shares_actors_only_with_its_kind(connect: Connect) -> None:
    client = connect(workflows_per_actor=1, pool_size=(2, 8))
    shared = [client.start(wf.shares_an_actor, "go") for _ in range(4)]
    alone = [client.start(wf.waits_for_signal, "go") for _ in range(2)]
    hosts = [_where(client, h) for h in shared]
    assert len(set(hosts[:3])) == 1  # three to an actor
    assert hosts[3] != hosts[0]
    assert len({_where(client, h) for h in alone} | set(hosts)) == 4  # the rest one each
    _finish([*shared, *alone])


def test_a_type_kept_alone_gets_an_actor_of_its_own_on_a_packed_engine(connect: Connect) -> None:
    client = connect(workflows_per_actor=4, pool_size=(2, 8))
    packed = [client.start(wf.waits_for_signal, "go") for _ in range(2)]
    alone = [client.start(wf.keeps_an_actor, "go") for _ in range(2)]
    packed_hosts = {_where(client, h) for h in packed}
    alone_hosts = [_where(client, h) for h in alone]
    assert len(packed_hosts) == 1
    assert len(set(alone_hosts)) == 2
    assert not packed_hosts & set(alone_hosts)
    _finish([*packed, *alone])


def test_a_type_with_its_own_idle_timeout_is_suspended_on_its_own_clock(connect: Connect) -> None:
    client = connect(idle_timeout=30.0)
    quick = client.start(wf.parks_quickly, "go")
    patient = client.start(wf.waits_for_signal, "go")
    _eventually(lambda: quick.describe().residency == "suspended")
    assert patient.describe().residency == "resident"
    _finish([quick, patient])
