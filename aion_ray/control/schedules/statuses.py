"""A step decided over a store that answers asynchronously (the store actor on Ray).

``plan`` asks ``status_of`` synchronously, one workflow id at a time. A host whose store
answers over the network decides the step once with what it knows, fetches the statuses the
decision asked for in one go, and decides again: the ids a step asks about are fixed by the
schedule (its open runs, the ticks it decides), so the second decision asks nothing new.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from aion_ray.control.schedules.plan import StatusOf
from aion_ray.model.history import WorkflowStatus

T = TypeVar("T")

Fetch = Callable[[Sequence[str]], Awaitable[Mapping[str, WorkflowStatus | None]]]
"""The statuses of these workflow ids in the store (None: never started)."""

MAX_ROUNDS = 4


async def decided(decide: Callable[[StatusOf], T], fetch: Fetch) -> T:
    """``decide``'s answer (a step, a refreshed schedule) once every status it asked for is
    known."""
    known: dict[str, WorkflowStatus | None] = {}
    asked: set[str] = set()

    def status_of(workflow_id: str) -> WorkflowStatus | None:
        if workflow_id not in known:
            asked.add(workflow_id)
        return known.get(workflow_id)

    for _ in range(MAX_ROUNDS):
        asked.clear()
        step = decide(status_of)
        if not asked:
            return step
        known.update(await fetch(sorted(asked)))
    raise AssertionError("a schedule step kept asking for new statuses")  # plan is finite
