"""A bounded, write-through cache of recent histories for the DuckDB store.

Workflows that become resident again read their histories first; those are usually the ones
written recently. The store owns its file, so it can keep what it wrote: appended events are
added to cached histories after COMMIT, new histories are cached from their first event, and
the least recently used histories are dropped past ``capacity`` events.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

from aion_ray.model.events import Event


class HistoryCache:
    """Complete histories by workflow id, bounded by their total number of events."""

    def __init__(self, capacity: int = 200_000, *, heads: int = 1_000_000) -> None:
        self._capacity = capacity
        self._histories: OrderedDict[str, list[Event]] = OrderedDict()
        self._size = 0
        # The last committed seq of recently written workflows, cached or not: a history read
        # from the database is only cached if no commit landed after the read began.
        self._heads: OrderedDict[str, int] = OrderedDict()
        self._max_heads = heads
        self._lock = threading.Lock()

    def read(self, workflow_id: str, from_seq: int) -> list[Event] | None:
        """Events with ``seq >= from_seq``, or None if the history is not cached."""
        with self._lock:
            history = self._histories.get(workflow_id)
            if history is None:
                return None
            self._histories.move_to_end(workflow_id)
            return history[max(from_seq, 1) - 1 :]

    def fill(self, workflow_id: str, history: Sequence[Event]) -> None:
        """Cache a complete history read from the database."""
        with self._lock:
            if workflow_id in self._histories or not history:
                return
            if self._heads.get(workflow_id, history[-1].seq) == history[-1].seq:
                self._put(workflow_id, list(history))

    def extend(self, workflow_id: str, events: Sequence[Event]) -> None:
        """Add committed events: to the cached history, or as a new one if they start at 1."""
        if not events:
            return
        with self._lock:
            self._note_head(workflow_id, events[-1].seq)
            history = self._histories.get(workflow_id)
            if history is not None and history[-1].seq + 1 == events[0].seq:
                history.extend(events)
                self._size += len(events)
                self._histories.move_to_end(workflow_id)
                self._evict()
            elif history is not None:
                self._drop(workflow_id)  # not contiguous: forget rather than guess
            elif events[0].seq == 1:
                self._put(workflow_id, list(events))

    def forget(self, workflow_id: str) -> None:
        """Drop one history (its cached copy may no longer match the database)."""
        with self._lock:
            if workflow_id in self._histories:
                self._drop(workflow_id)

    def clear(self) -> None:
        with self._lock:
            self._histories.clear()
            self._size = 0

    def _note_head(self, workflow_id: str, seq: int) -> None:
        self._heads[workflow_id] = seq
        self._heads.move_to_end(workflow_id)
        if len(self._heads) > self._max_heads:
            self._heads.popitem(last=False)

    def _put(self, workflow_id: str, history: list[Event]) -> None:
        self._histories[workflow_id] = history
        self._size += len(history)
        self._evict()

    def _drop(self, workflow_id: str) -> None:
        self._size -= len(self._histories.pop(workflow_id))

    def _evict(self) -> None:
        while self._size > self._capacity and len(self._histories) > 1:
            _, oldest = self._histories.popitem(last=False)
            self._size -= len(oldest)
