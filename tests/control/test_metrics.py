"""What the control plane tells its ``Metrics`` (``controller.metrics``): a run it ends
itself (no host recorded it) is counted by type and status, and a resume after a host's
death is counted as a restart (``Supervisor.restarted``, which the registry samples)."""

from __future__ import annotations

import asyncio

from aion_ray.engine.observe import RecordedMetrics
from aion_ray.engine.transport import Closure
from aion_ray.model import events as ev
from aion_ray.model.payload import encode
from tests.control.conftest import plane
from tests.control.fakes import settle


def test_a_run_failed_past_its_restart_limit_is_counted_here() -> None:
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
