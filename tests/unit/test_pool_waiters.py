"""Waiting placements: in order within a hosting group, the oldest first across groups."""

from __future__ import annotations

import asyncio

from aion_ray.control.waiters import Waiters
from aion_ray.testing.clock import FakeClock


def test_waiters_keep_arrival_order_and_drop_cancelled_ones() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        waiting = Waiters(FakeClock())
        futures = [loop.create_future() for _ in range(4)]
        waiting.add(("", 1), futures[0])
        waiting.add(("batch", 50), futures[1])
        waiting.add(("", 1), futures[2])
        waiting.add(("batch", 50), futures[3])
        assert waiting.count == 4
        assert waiting.actors_needed() == 2 / 1 + 2 / 50
        assert waiting.oldest_group() == ""
        assert waiting.pop("")[2] is futures[0]
        assert waiting.oldest_group() == "batch"
        futures[1].cancel()  # a placement that gave up: skipped, not served
        head = waiting.head("batch")
        assert head is not None
        assert head[2] is futures[3]
        assert waiting.oldest_group() == ""
        assert (waiting.pop("")[2], waiting.pop("batch")[2]) == (futures[2], futures[3])
        assert (waiting.count, waiting.groups(), waiting.oldest_group()) == (0, [], None)

    asyncio.run(scenario())
