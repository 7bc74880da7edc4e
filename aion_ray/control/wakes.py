"""When each suspended workflow must be made resident again (its next timer or deadline)."""

from __future__ import annotations

import heapq
import itertools
from datetime import datetime


class WakeSchedule:
    """Suspended workflows by wake time; setting a workflow's wake replaces the old one."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, str]] = []
        self._wake: dict[str, datetime] = {}
        self._order = itertools.count()

    def set(self, workflow_id: str, at: datetime | None) -> None:
        """Wake ``workflow_id`` at ``at`` (None: no wake; it waits for an arrival)."""
        if at is None:
            self._wake.pop(workflow_id, None)
            return
        self._wake[workflow_id] = at
        heapq.heappush(self._heap, (at, next(self._order), workflow_id))

    def clear(self, workflow_id: str) -> None:
        self._wake.pop(workflow_id, None)

    def next_at(self) -> datetime | None:
        """The earliest wake still set."""
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def due(self, now: datetime) -> list[str]:
        """Take the workflows whose wake is at or before ``now`` (each once)."""
        found = []
        while (at := self.next_at()) is not None and at <= now:
            _, _, workflow_id = heapq.heappop(self._heap)
            del self._wake[workflow_id]
            found.append(workflow_id)
        return found

    def _drop_stale(self) -> None:
        while self._heap and self._wake.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)
