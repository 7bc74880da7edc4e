"""The typed stubs: errors mapped once by type, a died actor found again by name, waits
bounded; and handles from ``client.get`` sending their calls to the workflow's host."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest
import ray

import aion_ray as aion
from aion_ray.actors.stub import Call, Stub
from tests.ray import workflows as wf
from tests.ray.conftest import Connect

pytestmark = pytest.mark.ray


class Named:
    """A small actor that says which incarnation it is, raises engine errors, or sleeps."""

    def __init__(self, incarnation: int) -> None:
        self.incarnation = incarnation

    def which(self) -> int:
        return self.incarnation

    def missing(self, workflow_id: str) -> None:
        raise aion.WorkflowNotFoundError(workflow_id)

    def broken(self) -> None:
        raise RuntimeError("not an engine error")

    def slow(self, seconds: float) -> int:
        time.sleep(seconds)
        return self.incarnation


RemoteNamed = ray.remote(num_cpus=0)(Named)


def _start(name: str, namespace: str, incarnation: int) -> Any:
    """A detached actor named ``name`` (once a killed holder has let the name go)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            handle = RemoteNamed.options(
                name=name, namespace=namespace, lifetime="detached"
            ).remote(incarnation)
            break
        except ValueError:  # the name is still taken by the actor just killed
            assert time.monotonic() < deadline, f"the name {name!r} was never freed"
            time.sleep(0.05)
    ray.get(handle.which.remote())  # type: ignore[attr-defined]
    return handle


def _which(stub: Stub) -> Call[int]:
    return Call(stub, "which", ())


def test_a_died_actor_is_found_again_by_name(ray_cluster: None) -> None:
    namespace = f"stubs-{os.getpid()}-died"
    first = _start("named", namespace, 1)
    stub = Stub("named", namespace)
    assert _which(stub).get() == 1
    ray.kill(first, no_restart=True)
    second = _start("named", namespace, 2)  # the engine re-created it under the same name
    with pytest.raises(aion.EngineUnavailableError) as not_again:
        Call[int](stub, "which", (), once=True).get()  # a call not to repeat is not resent
    assert not_again.value.state == "died"
    assert _which(stub).get() == 2  # the call to the dead one went to its successor
    _kill(second)
    with pytest.raises(aion.EngineUnavailableError) as died:
        _which(stub).get()
    assert died.value.state == "died"
    assert died.value.gone
    with pytest.raises(aion.EngineUnavailableError) as again:
        asyncio.run(_awaited(_which(stub)))
    assert again.value.state == "died"


def _kill(handle: Any) -> None:
    """Kill the actor and wait until it is dead: ``ray.kill`` only asks, and a call that
    reaches the actor before the kill does is still answered."""
    ray.kill(handle, no_restart=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            ray.get(handle.which.remote(), timeout=5)
        except ray.exceptions.RayActorError:
            return
        assert time.monotonic() < deadline, "the killed actor still answers"
        time.sleep(0.05)


async def _awaited(call: Call[int]) -> int:
    return await call


def test_engine_errors_arrive_as_themselves_and_others_say_which_actor(ray_cluster: None) -> None:
    namespace = f"stubs-{os.getpid()}-errors"
    actor = _start("named", namespace, 1)
    stub = Stub("named", namespace)
    with pytest.raises(aion.WorkflowNotFoundError):
        Call[None](stub, "missing", ("wf-1",)).get()
    with pytest.raises(aion.EngineUnavailableError) as failed:
        Call[None](stub, "broken", ()).get()
    assert failed.value.state == "failed"
    assert not failed.value.gone
    assert failed.value.actor == "named"
    assert "RuntimeError" in failed.value.reason
    with pytest.raises(TimeoutError):
        Call[int](stub, "slow", (5.0,)).get(timeout=0.2)
    with pytest.raises(aion.EngineUnavailableError) as nobody:
        _which(Stub("nobody", namespace)).get()
    assert nobody.value.state == "died"
    ray.kill(actor, no_restart=True)


def _registry_calls(client: aion.Client) -> dict[str, int]:
    calls: dict[str, int] = client.registry.stats().get()["registry"]
    return calls


def _resident(client: aion.Client, workflow_id: str) -> None:
    """Wait until the workflow is resident on a host the client's view of the pool holds."""
    deadline = time.monotonic() + 30
    while client.registry.where(workflow_id).get() not in _viewed(client):
        assert time.monotonic() < deadline, f"{workflow_id} never became resident in view"
        time.sleep(0.05)


def _viewed(client: aion.Client) -> set[str]:
    return {target.name for target in client.router.targets()}


def test_a_found_handle_sends_its_calls_to_the_host(connect: Connect) -> None:
    client = connect(pool_size=(2, 4))
    started = client.start(wf.answers, 5)
    _resident(client, started.workflow_id)
    found = client.get(started.workflow_id)
    before = _registry_calls(client)
    assert found.query("n") == 5
    found.signal("add", 1)
    assert found.result(timeout=60) == 11
    after = _registry_calls(client)
    for method in ("signal", "query", "result", "results", "cancel"):
        assert after.get(method, 0) == before.get(method, 0), method
    assert after.get("locate", 0) == before.get("locate", 0) + 1  # one lookup, then the host


def test_a_found_handle_reaches_its_host_with_the_registry_gone(connect: Connect) -> None:
    client = connect(pool_size=(2, 4))
    started = client.start(wf.answers, 7)
    _resident(client, started.workflow_id)
    client.registry.kill()

    async def found_async() -> int:
        again = await client.get_async(started.workflow_id)
        return int(await again.query_async("n"))

    assert asyncio.run(found_async()) == 7
    found = client.get(started.workflow_id)  # asks the store, then the pool's hosts
    assert found.query("n") == 7
    found.signal("add", 2)
    assert found.result(timeout=60) == 16
