"""The TestEngine's driver wakes (timers, retries, deadlines, heartbeat timeouts) on a heap
keyed by fake time; a wake of a driver that was replaced since is dropped, never fired."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aion_ray.engine.driver import WorkflowDriver
from aion_ray.model.store import WakeKey


@dataclass(order=True)
class Wake:
    at: datetime
    order: int
    workflow_id: str = field(compare=False)
    key: WakeKey = field(compare=False)
    driver: WorkflowDriver = field(compare=False)
    live: bool = field(default=True, compare=False)


class DriverWakes:
    """Armed wakes by (workflow id, key); ``is_current`` says if a driver still counts."""

    def __init__(self, is_current: Callable[[WorkflowDriver], bool]) -> None:
        self._is_current = is_current
        self._heap: list[Wake] = []
        self._armed: dict[tuple[str, WakeKey], Wake] = {}
        self._order = itertools.count()

    def arm(self, driver: WorkflowDriver, key: WakeKey, at: datetime) -> None:
        self.disarm(driver, key)
        wake = Wake(at, next(self._order), driver.workflow_id, key, driver)
        self._armed[(driver.workflow_id, key)] = wake
        heapq.heappush(self._heap, wake)

    def disarm(self, driver: WorkflowDriver, key: WakeKey) -> None:
        wake = self._armed.pop((driver.workflow_id, key), None)
        if wake is not None:
            wake.live = False

    def armed(self) -> set[tuple[str, WakeKey]]:
        """The wakes of current drivers that have not fallen due."""
        return {key for key, wake in self._armed.items() if self._is_current(wake.driver)}

    def at(self, key: tuple[str, WakeKey]) -> datetime:
        return self._armed[key].at

    def next(self) -> Wake | None:
        """The earliest live wake of a current driver."""
        while self._heap and (not self._heap[0].live or not self._is_current(self._heap[0].driver)):
            heapq.heappop(self._heap)
        return self._heap[0] if self._heap else None

    def due(self, now: datetime) -> list[Wake]:
        """Take every wake due at ``now``, earliest first."""
        found = []
        while (wake := self.next()) is not None and wake.at <= now:
            heapq.heappop(self._heap)
            self._armed.pop((wake.workflow_id, wake.key), None)
            found.append(wake)
        return found
