"""A workflow its host let go without the control plane hearing of it (the host could not
rebuild it while the store was out of reach) is hosted again: by the next arrival, or at
once when the host asks (``wake``). Before, an arrival looped forever on the host that no
longer held it; now an arrival that cannot catch its workflow gives up after a while."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aion_ray.control.ports import HostDied
from aion_ray.engine.starts import StartSpec, encode_input
from aion_ray.engine.transport import Closure, Placed
from aion_ray.errors import EngineUnavailableError
from aion_ray.model import events as ev
from aion_ray.model.payload import encode
from tests.control.conftest import plane, waits
from tests.control.fakes import FakeHost, settle


def test_an_arrival_for_a_workflow_its_host_dropped_records_and_rehosts_it() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 2))
        await p.start("a")
        dropped = p.host_of("a")
        dropped.hosted.discard("a")  # its rebuild failed: the host holds it no more

        signal = p.control.arrivals.signal("a", "go", encode(2), "request-1")
        await asyncio.wait_for(signal, timeout=5)
        await p.until(lambda: p.resident("a"))

        assert any(isinstance(e, ev.SignalReceived) for e in p.store.read_history("a"))
        assert sum(host.resumes for host in p.fleet.hosts.values()) == 1
        assert "a" in p.host_of("a").hosted

    asyncio.run(scenario())


def test_a_host_that_gave_up_a_workflow_has_it_hosted_again() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 2))
        await p.start("a")
        kept = p.host_of("a")
        p.control.wake(["a"])  # said by mistake: the host still holds it
        await settle()
        assert sum(host.resumes for host in p.fleet.hosts.values()) == 0

        kept.hosted.discard("a")
        p.control.wake(["a"])  # the host gave it up
        await p.until(lambda: p.resident("a") and "a" in p.host_of("a").hosted)
        assert sum(host.resumes for host in p.fleet.hosts.values()) == 1

    asyncio.run(scenario())


def test_a_report_older_than_a_runs_end_does_not_bring_it_back() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 2))
        run_id = await p.start("a")
        host = p.host_of("a")
        snapshot = await host.placements()  # taken before the run ended ...
        ended = ev.WorkflowCompleted(
            workflow_id="a", run_id=run_id, seq=9, recorded_at=p.clock.now(), result=encode(1)
        )
        p.control.closed(host.name, [Closure("a", run_id, ended, None)])
        p.control.placed(host.name, snapshot)  # ... and counted after it
        assert "a" not in p.control.directory.entries
        assert p.control.pool.members[host.name].load == 0

        again = Placed("a", "run-2", "waits", ("", 1))  # a new run of the id is counted
        p.control.placed(host.name, [again])
        assert p.control.directory.entries["a"].run_id == "run-2"

    asyncio.run(scenario())


def test_an_arrival_whose_workflow_keeps_leaving_gives_up_after_its_patience(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 2))
        await p.start("a")
        host = p.host_of("a")

        async def dies(*_: Any) -> None:
            raise HostDied(host.name)  # and the pool never hears of the death

        monkeypatch.setattr(host, "signal", dies)
        signal = asyncio.ensure_future(p.control.arrivals.signal("a", "go", encode(2), "r-1"))
        await asyncio.sleep(0.2)
        assert not signal.done()  # still following it
        p.clock.advance(61)
        with pytest.raises(EngineUnavailableError) as gave_up:
            await asyncio.wait_for(signal, timeout=5)
        assert gave_up.value.state == "unreachable"
        assert "a" in gave_up.value.actor

    asyncio.run(scenario())


@pytest.mark.parametrize("heard", [True, False], ids=["death heard", "death unheard"])
def test_a_start_whose_host_dies_before_recording_it_is_started_on_another_host(
    monkeypatch: pytest.MonkeyPatch, heard: bool
) -> None:
    # Heard: the fleet's watch reports the death within milliseconds. Unheard: it answers
    # late, and the start takes Ray's word for the death instead of being handed the same
    # host again until it gives up (seen in the chaos benchmark: "no host took r0-chaos-0").
    async def scenario() -> None:
        p = await plane(pool_size=(2, 2))
        doomed = next(iter(p.fleet.hosts.values()))

        async def dies(*_: Any) -> None:
            doomed.dead = True
            if heard:
                p.control.pool.died(doomed.name)
            raise HostDied(doomed.name)

        monkeypatch.setattr(doomed, "start", dies)
        monkeypatch.setattr(p.control.pool, "acquire", _first_to(doomed, p.control.pool.acquire))
        await p.start("a")
        assert p.resident("a")
        assert p.host_of("a") is not doomed
        assert doomed.name not in p.control.pool.members
        assert [type(e).__name__ for e in p.store.read_history("a")][:1] == ["WorkflowStarted"]

    asyncio.run(scenario())


def _first_to(doomed: Any, acquire: Any) -> Any:
    """The pool's ``acquire``, except that its first answer is the ``doomed`` host."""
    first = [True]

    async def acquire_doomed_first(slot: Any) -> Any:
        if first[0]:
            first[0] = False
            return next(m for m in _members(acquire) if m.name == doomed.name)
        return await acquire(slot)

    return acquire_doomed_first


def _members(acquire: Any) -> Any:
    return acquire.__self__.members.values()


def test_a_start_whose_hosts_all_die_under_it_gives_up_after_its_patience(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 2))

        async def dies(host: FakeHost, *_: Any) -> None:
            host.dead = True
            raise HostDied(host.name)

        monkeypatch.setattr(FakeHost, "start", dies)
        spec = StartSpec("a", waits, encode_input(waits, 1, 1 << 20))
        starting = asyncio.ensure_future(p.control.start([spec]))
        for _ in range(20):  # hosts die under it, and new ones warm: it keeps trying
            await settle()
            await p.timers.advance(0.1)
        assert not starting.done()
        assert p.control.pool.deaths >= 2

        p.clock.advance(61)
        for _ in range(20):
            await settle()
            await p.timers.advance(0.1)
            if starting.done():
                break
        [reply] = await asyncio.wait_for(starting, timeout=5)
        assert isinstance(reply, EngineUnavailableError)
        assert reply.state == "unreachable"
        assert "a" not in p.control.directory.entries

    asyncio.run(scenario())
