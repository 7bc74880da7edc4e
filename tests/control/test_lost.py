"""A workflow its host let go without the control plane hearing of it (the host could not
rebuild it while the store was out of reach) is hosted again: by the next arrival, or at
once when the host asks (``wake``). Before, an arrival looped forever on the host that no
longer held it."""

from __future__ import annotations

import asyncio

from aion_ray.engine.transport import Closure, Placed
from aion_ray.model import events as ev
from aion_ray.model.payload import encode
from tests.control.conftest import plane
from tests.control.fakes import settle


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
