"""Call counting for the benchmarks: one decorator counts every public call of an actor."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator

from aion_ray.actors.counting import counted


@counted
class Actor:
    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()

    async def start(self, n: int) -> int:
        return n + 1

    async def results(self, n: int) -> AsyncIterator[int]:
        for i in range(n):
            yield i

    async def stats(self) -> dict[str, int]:
        return dict(self.calls)

    async def _private(self) -> None:
        return None


def test_public_calls_are_counted_by_name_and_housekeeping_is_not() -> None:
    async def scenario() -> None:
        actor = Actor()
        assert [await actor.start(1), await actor.start(2)] == [2, 3]
        assert [i async for i in actor.results(3)] == [0, 1, 2]
        await actor.stats()
        await actor._private()
        assert await actor.stats() == {"start": 2, "results": 1}

    asyncio.run(scenario())
