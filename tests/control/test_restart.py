"""A control plane that restarts (the registry actor died and Ray made it again) re-attaches
to the hosts the last one left running: it learns what each holds from the host, resumes
nothing they hold, and starts no second pool beside them."""

from __future__ import annotations

import asyncio

import pytest

from aion_ray.control.controller import Controller
from aion_ray.control.ports import HostUnreachable
from aion_ray.engine.starts import start_event
from aion_ray.engine.transport import Placed
from aion_ray.model.payload import encode
from tests.control.conftest import Plane, plane, restarted, waits
from tests.control.fakes import FakeHost


def test_a_restarted_control_plane_reattaches_to_the_live_hosts() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 4))
        await p.start("a")
        await p.start("b")
        hosts = set(p.fleet.hosts)
        where = {wid: p.host_of(wid).name for wid in ("a", "b")}
        heads = {wid: len(p.store.read_history(wid)) for wid in ("a", "b")}

        again = await restarted(p)

        assert hosts <= set(again.control.pool.members)  # every live host re-joined
        assert len(set(p.fleet.hosts) - hosts) <= 1  # the warm floor at most: no second pool
        assert sum(host.resumes for host in p.fleet.hosts.values()) == 0
        for wid in ("a", "b"):
            assert again.host_of(wid).name == where[wid]  # known where it lives
            assert len(p.store.read_history(wid)) == heads[wid]  # nothing replayed or moved
            assert [h.name for h in p.fleet.hosts.values() if wid in h.hosted] == [where[wid]]
        await again.control.arrivals.signal("a", "go", encode(1), "request-1")
        assert again.host_of("a").signals == [("a", "go")]  # sent to the host that holds it
        assert again.control.pool.members[where["a"]].load == 1  # its slot is counted

    asyncio.run(scenario())


def test_a_host_that_died_with_the_control_plane_has_its_workflows_resumed() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 4))
        await p.start("a")
        lost = p.host_of("a")
        lost.dead = True  # it died while no control plane watched it

        again = await restarted(p)
        await again.until(lambda: again.resident("a"))

        assert again.host_of("a") is not lost
        assert lost.name not in again.control.pool.members

    asyncio.run(scenario())


async def _started_unreported(p: Plane, workflow_id: str) -> FakeHost:
    """A client's direct start on the warm host whose report never reached the control
    plane (lost, or still on its way)."""
    [member] = p.control.pool.members.values()
    host = p.fleet.hosts[member.name]
    await p.port.save_definition(waits)  # the client keeps the code with the store
    await host.start(waits, workflow_id, start_event(waits, encode(1)), "run-1", ("", 1))
    return host


def test_an_arrival_for_an_unreported_workflow_goes_to_the_host_that_holds_it() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 2))
        host = await _started_unreported(p, "d")
        await p.control.arrivals.signal("d", "go", encode(1), "request-1")
        assert host.signals == [("d", "go")]  # found on its host, not moved
        assert len(p.store.read_history("d")) == 1  # nothing recorded under another lease
        assert p.host_of("d") is host
        await p.start("d")  # a start of the same id through the control plane adopts it
        assert sum(h.resumes for h in p.fleet.hosts.values()) == 0

    asyncio.run(scenario())


def test_a_host_that_dies_before_its_report_has_its_workflow_resumed() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 2))
        host = await _started_unreported(p, "d")
        host.dead = True
        p.control.pool.died(host.name)
        await p.until(lambda: p.resident("d"))
        assert p.host_of("d") is not host

    asyncio.run(scenario())


def test_a_start_up_that_cannot_learn_what_a_host_holds_answers_nothing() -> None:
    """Until every live host has said what it holds, the control plane is not attached
    (answers before that could move, and fence, what a host holds); a host that does not
    answer at all is passed by and its workflows recovered elsewhere."""

    async def scenario() -> None:
        p = await plane(pool_size=(1, 4))
        await p.start("a")
        host = p.host_of("a")
        real = host.placements

        async def failing() -> list[Placed]:
            raise RuntimeError("the call broke")

        host.placements = failing  # type: ignore[method-assign]
        control = Controller(p.control.settings, p.port, p.fleet, p.clock, p.timers)
        with pytest.raises(RuntimeError):
            await control.start_up()
        assert not control.attached.is_set()

        host.placements = real  # type: ignore[method-assign]
        await control.start_up()  # tried again: attached, nothing moved
        assert control.attached.is_set()
        assert control.directory.member_of("a") is not None

        async def silent() -> list[Placed]:
            raise HostUnreachable(host.name)

        host.placements = silent  # type: ignore[method-assign]
        again = await restarted(p)
        assert again.control.attached.is_set()
        assert host.name not in again.control.pool.members
        await again.until(lambda: again.resident("a") and again.host_of("a") is not host)

    asyncio.run(scenario())
