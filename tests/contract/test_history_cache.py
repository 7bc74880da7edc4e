"""The DuckDB store's history cache: never serves a history that misses committed events."""

from __future__ import annotations

from pathlib import Path

from aion_ray.model import events as ev
from aion_ray.model.payload import encode
from aion_ray.storage import DuckDBHistoryStore
from aion_ray.storage.duckdb.history_cache import HistoryCache
from tests.builders import HistoryBuilder


def history(length: int, workflow_id: str = "wf-1") -> list[ev.Event]:
    b = HistoryBuilder(workflow_id)
    b.started()
    while b.head < length:
        b.add(ev.SignalReceived, name="s", payload=encode(b.head))
    return b.events


def test_new_histories_are_cached_and_extended() -> None:
    cache = HistoryCache()
    events = history(5)
    cache.extend("wf-1", events[:3])
    cache.extend("wf-1", events[3:])
    assert cache.read("wf-1", 1) == events
    assert cache.read("wf-1", 4) == events[3:]
    assert cache.read("other", 1) is None


def test_a_stale_database_read_is_not_cached() -> None:
    cache = HistoryCache()
    events = history(6)
    cache.extend("wf-1", events[5:])  # a commit the reader's snapshot did not see
    cache.fill("wf-1", events[:5])
    assert cache.read("wf-1", 1) is None
    cache.fill("wf-1", events)
    assert cache.read("wf-1", 1) == events


def test_a_gap_drops_the_cached_history() -> None:
    cache = HistoryCache()
    events = history(6)
    cache.fill("wf-1", events[:3])
    cache.extend("wf-1", events[4:])
    assert cache.read("wf-1", 1) is None


def test_the_cache_is_bounded_by_events() -> None:
    cache = HistoryCache(capacity=10)
    for n in range(4):
        cache.fill(f"wf-{n}", history(4, f"wf-{n}"))
    assert cache.read("wf-0", 1) is None
    assert cache.read("wf-3", 1) is not None


def test_the_store_reads_through_its_cache(tmp_path: Path) -> None:
    store = DuckDBHistoryStore(tmp_path / "h.duckdb", history_cache_events=100)
    events = history(8)
    lease = store.acquire_lease("wf-1")
    store.append("wf-1", events[:4], expected_seq=0, lease=lease)
    store.append("wf-1", events[4:], expected_seq=4, lease=lease)
    assert store.read_history("wf-1") == events
    store.close()
    reopened = DuckDBHistoryStore(tmp_path / "h.duckdb")
    assert reopened.read_history("wf-1", 5) == events[4:]
    assert reopened.read_history("wf-1") == events
    assert reopened.read_history("wf-1") == events  # now from the cache
    reopened.close()
