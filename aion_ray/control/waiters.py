"""Placements waiting for a pool slot: first come, first served within each hosting group,
and an empty actor goes to the longest-waiting placement of any group.

One queue per group keeps handing out cheap however many placements wait (a burst of a
thousand starts at ``workflows_per_actor=1``): a freed slot is matched against the head of
each group's queue, never against every waiter.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
from typing import TYPE_CHECKING

from aion_ray.model.clock import Clock

if TYPE_CHECKING:
    from aion_ray.control.pool import Member, Slot

Waiter = tuple[int, "Slot", "asyncio.Future[Member]", float]
"""Arrival order, the slot it needs, where its member goes, and when it came (seconds)."""


class Waiters:
    """Waiting placements by hosting group, in arrival order."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._queues: dict[str, collections.deque[Waiter]] = {}
        self._arrivals = itertools.count()
        self.count = 0

    def add(self, slot: Slot, waiter: asyncio.Future[Member]) -> None:
        self._queues.setdefault(slot[0], collections.deque()).append(
            (next(self._arrivals), slot, waiter, self._clock.now().timestamp())
        )
        self.count += 1

    def groups(self) -> list[str]:
        return list(self._queues)

    def head(self, group: str) -> Waiter | None:
        """The group's longest-waiting placement still waiting (cancelled ones are dropped)."""
        queue = self._queues.get(group)
        while queue and queue[0][2].done():
            queue.popleft()
            self.count -= 1
        if queue:
            return queue[0]
        self._queues.pop(group, None)
        return None

    def pop(self, group: str) -> Waiter:
        self.count -= 1
        waiter = self._queues[group].popleft()
        if not self._queues[group]:
            del self._queues[group]
        return waiter

    def oldest_group(self) -> str | None:
        heads = [(head[0], group) for group in self.groups() if (head := self.head(group))]
        return min(heads)[1] if heads else None

    def longest_wait(self) -> float:
        """Seconds the longest-waiting placement has waited (0 if none waits)."""
        heads = [head[3] for group in self.groups() if (head := self.head(group))]
        return self._clock.now().timestamp() - min(heads) if heads else 0.0

    def actors_needed(self) -> float:
        """Actors that would seat every waiter: per group, its waiters over its number."""
        return sum(len(queue) / queue[0][1][1] for queue in self._queues.values() if queue)
