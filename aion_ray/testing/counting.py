"""CountingStore: a real history store that counts the calls made to it, by kind.

It wraps any ``HistoryStore`` and forwards every call unchanged, so what it counts is what the
engine really asks of a store: ``writes`` are durable commits (each ``append_batch`` is one,
however many workflows it carries), ``reads`` history reads, ``round_trips`` every call. The
engine's write targets are pinned by tests that run workflows on it; the benchmarks print
its counts beside their timings.
"""

from __future__ import annotations

import collections
from typing import Any

from aion_ray.storage.contract import HistoryStore

WRITES = frozenset(
    {
        "append",
        "append_async",
        "append_batch",
        "append_batch_async",
        "acquire_lease",
        "record_lifecycle",
    }
)
READS = frozenset({"read_history"})


class CountingStore:
    """Forwards to ``store`` and counts each method called (see the module docstring)."""

    def __init__(self, store: HistoryStore) -> None:
        self.store = store
        self.calls: collections.Counter[str] = collections.Counter()
        self.appended_events = 0

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.store, name)
        if not callable(target):
            return target

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            if name in ("append_batch", "append_batch_async") and args:
                self.appended_events += sum(len(request.events) for request in args[0])
            return target(*args, **kwargs)

        return counted

    @property
    def writes(self) -> int:
        return sum(self.calls[name] for name in WRITES)

    @property
    def reads(self) -> int:
        return sum(self.calls[name] for name in READS)

    @property
    def round_trips(self) -> int:
        return sum(self.calls.values())

    def reset(self) -> None:
        self.calls.clear()
        self.appended_events = 0
