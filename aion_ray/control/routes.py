"""Routes: the pool as clients see it, so they start workflows on hosts directly.

A client long-polls the control plane for this view (``Routes.wait`` returns when the version
moves past the one the client knows, or after a while), keeps it, and starts workflows on a
host with room for their hosting group; the host accepts or refuses by its own capacity, so a
stale view costs a refusal, never an overfilled host. With the control plane down, clients
keep the last view they had.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from aion_ray.control.pool import Pool


@dataclass(frozen=True, slots=True)
class Route:
    """One host: the group it holds (None: empty, it takes any group), how many of that
    group's workflows it holds at most, and how many it holds or is promised now."""

    name: str
    group: str | None
    per_host: int
    load: int


class Routes:
    """A versioned view of the pool; ``changed`` moves the version and wakes the waiters."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.version = 0
        self._moved = asyncio.Event()

    def changed(self) -> None:
        self.version += 1
        self._moved.set()
        self._moved = asyncio.Event()

    def view(self) -> list[Route]:
        return [
            Route(m.name, m.group if m.load else None, m.capacity, m.load)
            for m in self.pool.members.values()
        ]

    async def wait(self, known: int, timeout: float) -> tuple[int, list[Route]]:
        """The view, once its version is not ``known`` (or ``timeout`` seconds passed)."""
        if known == self.version:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._moved.wait(), timeout)
        return self.version, self.view()
