"""A host whose store lives in another process sends its events as rows: the histories it
writes are the same as when it sends pydantic models."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from aion_ray.model.rows import EncodedEvents
from aion_ray.model.store import AppendRequest, AppendResult
from aion_ray.storage import DuckDBHistoryStore, HistoryStore, InMemoryHistoryStore
from aion_ray.testing import TestEngine
from tests.engine.test_write_counts import ten_steps, waits_for_approval


class SentKinds(InMemoryHistoryStore):
    """The reference store, noting how each batch's events arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.kinds: set[type] = set()

    def append_batch(self, requests: Sequence[AppendRequest]) -> list[AppendResult]:
        self.kinds.update(type(request.events) for request in requests)
        return super().append_batch(requests)


@pytest.mark.parametrize("kind", ["memory", "duckdb"])
def test_encoded_appends_write_the_same_histories(kind: str, tmp_path: Path) -> None:
    histories = []
    for encode in (False, True):
        store: HistoryStore = (
            SentKinds() if kind == "memory" else DuckDBHistoryStore(tmp_path / f"{encode}.duckdb")
        )
        engine = TestEngine(store=store)
        engine.core.pump.encode_events = encode
        assert engine.start(ten_steps, True, id="wf-steps").result() == 10
        handle = engine.start(waits_for_approval, id="wf-signal")
        handle.signal("approve", True)
        assert handle.result() is True
        histories.append([store.read_history("wf-steps"), store.read_history("wf-signal")])
        if isinstance(store, SentKinds):
            assert store.kinds == ({EncodedEvents} if encode else {tuple})
        store.close()
    assert histories[0] == histories[1]
