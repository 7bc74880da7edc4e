"""The control plane's view of a host's errors (``actors.ports.RayHost``): the host itself
gone is ``HostDied`` or ``HostUnreachable``; an error the host answered about another actor
(its store gone) is passed on as it is, never taken for the host's own death (a placement
would drop a live host from the pool)."""

from __future__ import annotations

import asyncio

import pytest

from aion_ray.actors.ports import RayHost
from aion_ray.actors.stubs import HostStub
from aion_ray.control.ports import HostDied, HostUnreachable
from aion_ray.errors import EngineUnavailableError

HOST = "aion-host-test"


async def _raises(error: Exception) -> None:
    raise error


def _called(error: Exception) -> None:
    host = RayHost(HostStub(HOST, "ns"))  # the stub looks nothing up until it sends
    asyncio.run(host._call(_raises(error)))


@pytest.mark.parametrize(("state", "seen"), [("died", HostDied), ("unreachable", HostUnreachable)])
def test_the_host_gone_is_its_death_or_its_silence(state: str, seen: type[Exception]) -> None:
    with pytest.raises(seen):
        _called(EngineUnavailableError(HOST, "the actor died", state=state))


@pytest.mark.parametrize("state", ["died", "unreachable"])
def test_the_hosts_answer_about_its_store_is_passed_on(state: str) -> None:
    with pytest.raises(EngineUnavailableError) as raised:
        _called(EngineUnavailableError("aion-store", "the actor died", state=state))
    assert raised.value.actor == "aion-store"
