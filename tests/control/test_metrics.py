"""What the control plane tells its ``Metrics`` (``controller.metrics``): a run it starts or
ends itself (no host recorded it) is counted, and a resume after a host's death is counted
as a restart (``Supervisor.restarted``, which the registry samples)."""

from __future__ import annotations

import asyncio

from aion_ray.engine.observe import RecordedMetrics
from aion_ray.engine.starts import StartSpec, encode_input
from aion_ray.engine.transport import Closure
from aion_ray.model import events as ev
from aion_ray.model.payload import encode
from tests.control.conftest import plane, waits
from tests.control.fakes import settle


def test_runs_the_control_plane_fails_or_starts_itself_are_counted_here() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 4), restart_limit=(1, 60.0))
        metrics = RecordedMetrics()
        p.control.metrics = metrics
        await p.start("a")
        first = p.host_of("a")
        first.dead = True
        p.control.pool.died(first.name)
        await p.until(lambda: p.resident("a"))
        assert p.control.supervisor.restarted == 1
        second = p.host_of("a")
        second.dead = True
        p.control.pool.died(second.name)  # past the limit of 1: the control plane fails it
        await settle()
        assert metrics.ended == {("waits", "failed"): 1}
        assert p.control.supervisor.restarted == 1  # the second death restarted nothing
        assert metrics.started == {}  # its start was its host's to count
        again = StartSpec("a", waits, encode_input(waits, 1, 1 << 20), new_run=True)
        starting = asyncio.ensure_future(p.control.start([again]))  # a new run, recorded here
        await p.until(starting.done)  # (fake time moves on while it waits for a host)
        [run_id] = starting.result()
        assert isinstance(run_id, str)
        assert metrics.started == {"waits": 1}

    asyncio.run(scenario())


def test_a_run_a_host_ended_is_not_counted_again_here() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 4))
        metrics = RecordedMetrics()
        p.control.metrics = metrics
        run_id = await p.start("b")
        ended = ev.WorkflowCompleted(
            workflow_id="b", run_id=run_id, seq=2, recorded_at=p.clock.now(), result=encode(1)
        )
        p.control.closed(p.host_of("b").name, [Closure("b", run_id, ended, None)])
        assert await p.control.result("b", 1.0) == ended
        assert metrics.ended == {}  # its host's append counted it

    asyncio.run(scenario())
