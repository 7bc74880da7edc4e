"""Shared fixtures: every HistoryStore implementation, each on fresh state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aion_ray.storage import DuckDBHistoryStore, HistoryStore, InMemoryHistoryStore


@pytest.fixture(params=["memory", "duckdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HistoryStore]:
    """Each test runs against the in-memory reference and the DuckDB store."""
    instance: HistoryStore
    if request.param == "memory":
        instance = InMemoryHistoryStore()
    else:
        instance = DuckDBHistoryStore(tmp_path / "history.duckdb")
    yield instance
    instance.close()
