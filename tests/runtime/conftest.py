"""Runtime tests run on the TestEngine's default store; ``on_both_stores`` runs a module on a
DuckDB file too, so the semantics are checked against the durable store as well."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aion_ray.storage import DuckDBHistoryStore
from aion_ray.testing import host


@pytest.fixture(params=["memory", "duckdb"])
def on_both_stores(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Every TestEngine made without a store gets a fresh DuckDB file when ``duckdb``."""
    opened: list[DuckDBHistoryStore] = []

    def duckdb_store() -> DuckDBHistoryStore:
        store = DuckDBHistoryStore(tmp_path / f"engine-{len(opened)}.duckdb")
        opened.append(store)
        return store

    if request.param == "duckdb":
        monkeypatch.setattr(host, "InMemoryHistoryStore", duckdb_store)
    yield request.param
    for store in opened:
        store.close()
