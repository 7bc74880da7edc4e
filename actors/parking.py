"""The registry's suspended workflows: their wake times, and arrivals recorded while parked.

A suspended workflow costs no process: the registry keeps its next wake time in a heap and
makes it resident when that time comes. A signal or a cancel for it is recorded first, by the
registry, with one append that takes the workflow's lease (fencing whichever host had it),
and only then is the workflow made resident; its new host replays the arrival from history.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any

from aion_ray.actors.calls import call
from aion_ray.actors.config import REGISTRY_NAME, STORE_NAME
from aion_ray.model import events as ev
from aion_ray.model.rows import EncodedEvents
from aion_ray.model.store import AppendRequest


class WakeHeap:
    """Wakes suspended workflows at their due times through ``wake(workflow_id, at)``."""

    def __init__(self, wake: Callable[[str, datetime], Coroutine[Any, Any, None]]) -> None:
        self._wake = wake
        self._heap: list[tuple[datetime, int, str]] = []
        self._order = itertools.count()
        self._changed = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run())

    def add(self, workflow_id: str, at: datetime) -> None:
        heapq.heappush(self._heap, (at, next(self._order), workflow_id))
        self._changed.set()

    async def _run(self) -> None:
        while True:
            self._changed.clear()
            if not self._heap:
                await self._changed.wait()
                continue
            delay = (self._heap[0][0] - datetime.now(UTC)).total_seconds()
            if delay > 0:
                with contextlib.suppress(TimeoutError):  # woken early by an earlier wake
                    await asyncio.wait_for(self._changed.wait(), delay)
                continue
            at, _, workflow_id = heapq.heappop(self._heap)
            asyncio.get_running_loop().create_task(self._wake(workflow_id, at))


async def append_parked(
    store: Any, workflow_id: str, events: Sequence[ev.Event], head: int
) -> None:
    """Append an arrival for a parked workflow at ``head``, taking its lease in the same
    transaction; raises the store's refusal (SequenceConflictError: it became resident)."""
    request = AppendRequest(
        workflow_id,
        EncodedEvents.of(workflow_id, events),
        expected_seq=head,
        acquire=REGISTRY_NAME,
    )
    [result] = await call(store.append_batch.remote([request]), STORE_NAME)
    if result.error is not None:
        raise result.error
