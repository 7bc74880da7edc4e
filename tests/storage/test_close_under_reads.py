"""Closing the DuckDB store while other threads read (the store actor closes on shutdown while
reads it started in threads may still run): the close completes, and every read either
answers or fails with the store's "closed" error, never a raw DuckDB one."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from aion_ray.errors import StoreError
from aion_ray.storage.duckdb.store import DuckDBHistoryStore


def _read_until_closed(store: DuckDBHistoryStore, seen: list[BaseException]) -> None:
    while True:
        try:
            store.list_workflows()
            store.read_lifecycle("some-id")
            store.sql("SELECT count(*) FROM range(2000000)")
        except BaseException as exc:
            seen.append(exc)
            return


@pytest.mark.parametrize("round_", range(5))
def test_close_waits_for_the_reads_under_way(tmp_path: Path, round_: int) -> None:
    store = DuckDBHistoryStore(tmp_path / f"history-{round_}.duckdb")
    seen: list[BaseException] = []
    readers = [threading.Thread(target=_read_until_closed, args=(store, seen)) for _ in range(4)]
    for reader in readers:
        reader.start()
    time.sleep(0.05)  # the readers are mid-query

    store.close()

    for reader in readers:
        reader.join(timeout=30)
    assert len(seen) == 4
    assert all(isinstance(exc, StoreError) and "closed" in str(exc) for exc in seen), seen


def test_the_file_reopens_after_a_close_under_reads(tmp_path: Path) -> None:
    path = tmp_path / "history.duckdb"
    store = DuckDBHistoryStore(path)
    seen: list[BaseException] = []
    reader = threading.Thread(target=_read_until_closed, args=(store, seen))
    reader.start()
    time.sleep(0.05)
    store.close()
    reader.join(timeout=30)

    again = DuckDBHistoryStore(path)
    assert again.list_workflows() == []
    again.close()
