"""The pool's ceiling through node loss: hosts that die together and spawns that fail for a
while (no node has room), with more placements waiting than it may hold, never take the
pool past ``pool_size``'s max, counting the hosts being started; it is full again once
spawns work."""

from __future__ import annotations

import asyncio

from tests.control.conftest import plane
from tests.control.fakes import settle

WORKFLOWS = ("a", "b", "c")


def test_hosts_lost_together_and_failing_spawns_keep_the_pool_within_its_ceiling() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 3))
        for workflow_id in WORKFLOWS:
            await p.start(workflow_id)
        pool = p.control.pool
        for member in list(pool.members.values()):  # their node is lost
            p.fleet.hosts[member.name].dead = True
            pool.died(member.name)
        p.fleet.fail = 6  # then no node has room for a while
        more = [p.placing(f"more-{i}") for i in range(3)]  # and more want hosts than it has

        def resident() -> int:
            ids = [*WORKFLOWS, "more-0", "more-1", "more-2"]
            return sum(p.resident(w) for w in ids)

        most = 0
        for _ in range(300):  # failed spawns pause in real time: move both on
            await settle()
            await asyncio.sleep(0.02)
            await p.timers.advance(0.1)
            live = [h for h in p.fleet.hosts.values() if not h.dead and not h.stopped]
            most = max(most, len(live), len(pool.members) + pool.starting)
            if resident() == 3:
                break
        assert resident() == 3  # the pool is full again
        assert p.fleet.fail == 0  # every failure was met, and retried
        assert most <= 3
        for start in more:
            start.cancel()

    asyncio.run(scenario())
