"""The DuckDB store keeps definitions and the suspension index across reopen, and opens a
file of the old layout (schema version 1: the catalogue and the suspensions only in lifecycle
rows) by migrating it."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from aion_ray.errors import StoreError
from aion_ray.model import events as ev
from aion_ray.model.payload import encode
from aion_ray.model.store import AppendRequest, LifecycleEntry, SuspendedWorkflow
from aion_ray.storage import DuckDBHistoryStore
from aion_ray.storage.schema import SCHEMA_VERSION
from tests.builders import T0, HistoryBuilder

WAKE = T0 + timedelta(hours=3)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "history.duckdb"


@pytest.fixture
def opened(path: Path) -> Iterator[list[DuckDBHistoryStore]]:
    """Stores opened by a test, closed at its end (at most one is open at a time)."""
    stores: list[DuckDBHistoryStore] = []
    yield stores
    for store in stores:
        store.close()


def reopen(path: Path, opened: list[DuckDBHistoryStore], **options: Any) -> DuckDBHistoryStore:
    for store in opened:
        store.close()
    store = DuckDBHistoryStore(path, **options)
    opened.append(store)
    return store


def waiting(store: DuckDBHistoryStore, workflow_id: str) -> HistoryBuilder:
    """A running workflow waiting on a timer (head 2)."""
    b = HistoryBuilder(workflow_id)
    b.started()
    b.timer(1, 3 * 3600)
    (result,) = store.append_batch([AppendRequest(workflow_id, b.events, 0, acquire="host-1")])
    assert result.ok, result.error
    return b


def suspended(b: HistoryBuilder, host: str = "host-1") -> SuspendedWorkflow:
    return SuspendedWorkflow(
        workflow_id=b.workflow_id, run_id=b.run_id, head=b.head, wake_at=WAKE, host=host
    )


def signal(store: DuckDBHistoryStore, b: HistoryBuilder) -> None:
    head = b.head
    b.add(ev.SignalReceived, name="go", payload=encode(1))
    lease = store.acquire_lease(b.workflow_id, holder="registry")
    store.append(b.workflow_id, b.since(head), expected_seq=head, lease=lease)


def test_definitions_survive_reopen(path: Path, opened: list[DuckDBHistoryStore]) -> None:
    store = reopen(path, opened)
    store.save_definition("pipeline", "fp-1", b"v1")
    store.save_definition("pipeline", "fp-2", b"v2")
    store.save_definition("report", "fp-1", b"r1")
    store = reopen(path, opened)
    assert store.load_definitions(["pipeline", "report"]) == {"pipeline": b"v2", "report": b"r1"}
    store.save_definition("pipeline", "fp-1", b"v1")  # the revision order survived too
    revisions = "select max(revision) as newest from definitions"
    assert store.sql(revisions).to_pylist() == [{"newest": 4}]
    store.save_definition("pipeline", "fp-1", b"v1")  # already the newest: nothing written
    assert store.sql(revisions).to_pylist() == [{"newest": 4}]
    store = reopen(path, opened)
    assert store.load_definitions(["pipeline"]) == {"pipeline": b"v1"}
    rows = store.sql("select workflow_type, fingerprint from definitions order by all")
    assert rows.to_pylist() == [
        {"workflow_type": "pipeline", "fingerprint": "fp-1"},
        {"workflow_type": "pipeline", "fingerprint": "fp-2"},
        {"workflow_type": "report", "fingerprint": "fp-1"},
    ]


def test_the_suspension_index_survives_reopen(path: Path, opened: list[DuckDBHistoryStore]) -> None:
    store = reopen(path, opened)
    kept, resumed = waiting(store, "wf-kept"), waiting(store, "wf-resumed")
    store.record_lifecycle([suspended(kept).entry(T0), suspended(resumed).entry(T0)])
    store = reopen(path, opened)
    assert store.suspended_workflows() == [suspended(kept), suspended(resumed)]
    signal(store, resumed)  # the state cache is cold: the append looks the suspension up
    assert store.suspended_workflows() == [suspended(kept)]
    store = reopen(path, opened)
    assert store.suspended_workflows() == [suspended(kept)]


def test_an_evicted_workflow_still_drops_its_suspension(
    path: Path, opened: list[DuckDBHistoryStore]
) -> None:
    store = reopen(path, opened, state_cache_size=1)
    first = waiting(store, "wf-1")
    store.record_lifecycle([suspended(first).entry(T0)])
    waiting(store, "wf-2")  # evicts wf-1 from the state cache
    signal(store, first)
    assert store.suspended_workflows() == []


# --- a file of the old layout -----------------------------------------------------------------


def legacy_definition(workflow_type: str, fingerprint: str, blob: bytes, at: int) -> LifecycleEntry:
    """A catalogue row as the registry recorded it before schema version 2."""
    return LifecycleEntry(
        workflow_id=f"aion.definitions/{workflow_type}",
        recorded_at=T0 + timedelta(seconds=at),
        kind="definition",
        detail={"fingerprint": fingerprint, "pickle": base64.b64encode(blob).decode()},
    )


def downgrade_to_version_1(path: Path) -> None:
    """Make the file what version 1 wrote: no tables of their own for the catalogue and the
    suspensions (their facts stay in the lifecycle rows), and version 1 in ``aion_meta``."""
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE definitions")
        con.execute("DROP TABLE suspensions")
        con.execute("UPDATE aion_meta SET value = '1' WHERE key = 'schema_version'")


def test_a_version_1_file_is_migrated_when_opened(
    path: Path, opened: list[DuckDBHistoryStore]
) -> None:
    store = reopen(path, opened)
    parked, moved_on, ended = waiting(store, "wf-parked"), waiting(store, "wf-moved"), None
    twice = waiting(store, "wf-twice")
    ended = waiting(store, "wf-ended")
    store.record_lifecycle(
        [
            suspended(parked).entry(T0),
            suspended(moved_on).entry(T0),
            suspended(ended).entry(T0),
            suspended(twice, host="host-old").entry(T0),
            suspended(twice, host="host-new").entry(T0 + timedelta(seconds=1)),
        ]
    )
    signal(store, moved_on)
    head = ended.head
    ended.completed()
    lease = store.acquire_lease("wf-ended")
    store.append("wf-ended", ended.since(head), expected_seq=head, lease=lease)
    corrupt = legacy_definition("broken", "fp-1", b"x", 0).model_copy(
        update={"detail": {"fingerprint": "fp-1", "pickle": "%% not base64 %%"}}
    )
    store.record_lifecycle(
        [
            legacy_definition("pipeline", "fp-1", b"v1", 1),
            legacy_definition("pipeline", "fp-2", b"v2", 2),
            legacy_definition("pipeline", "fp-1", b"v1", 0),  # an older duplicate
            legacy_definition("report", "fp-7", b"\x00r7\xff", 3),
            corrupt,
        ]
    )
    store = reopen(path, opened)
    store.close()
    downgrade_to_version_1(path)

    store = reopen(path, opened)
    assert store.load_definitions(["pipeline", "report", "broken"]) == {
        "pipeline": b"v2",
        "report": b"\x00r7\xff",
    }
    assert store.suspended_workflows() == [suspended(parked), suspended(twice, host="host-new")]
    # The catalogue's rows are gone from the lifecycle log (they named no workflow), except
    # the one that could not be read, kept as it was.
    assert store.read_lifecycle("aion.definitions/pipeline") == []
    assert store.read_lifecycle("aion.definitions/broken") == [corrupt]
    assert [e.kind for e in store.read_lifecycle("wf-twice")] == ["suspended", "suspended"]
    version = store.sql("select value from aion_meta where key = 'schema_version'")
    assert version.to_pylist() == [{"value": str(SCHEMA_VERSION)}]
    ids = {info.workflow_id for info in store.list_workflows()}
    assert ids == {"wf-parked", "wf-moved", "wf-twice", "wf-ended"}

    # The migrated index is live: an arrival drops a suspension, and a new save wins.
    signal(store, parked)
    store.save_definition("pipeline", "fp-3", b"v3")
    store = reopen(path, opened)  # and opening again migrates nothing twice
    assert store.suspended_workflows() == [suspended(twice, host="host-new")]
    assert store.load_definitions(["pipeline"]) == {"pipeline": b"v3"}


def test_a_failed_migration_leaves_the_file_at_version_1(
    path: Path, opened: list[DuckDBHistoryStore]
) -> None:
    store = reopen(path, opened)
    store.record_lifecycle([legacy_definition("pipeline", "fp-1", b"v1", 1)])
    store.close()
    downgrade_to_version_1(path)
    with duckdb.connect(str(path)) as con:  # a table in the way: the step cannot complete
        con.execute("CREATE TABLE definitions (workflow_type VARCHAR)")
    with pytest.raises(StoreError, match=r"cannot migrate .* from schema version 1"):
        DuckDBHistoryStore(path)
    with duckdb.connect(str(path)) as con:  # released, and as it was
        version = con.execute("select value from aion_meta where key = 'schema_version'")
        assert version.fetchall() == [("1",)]
        assert con.execute("select count(*) from lifecycle").fetchall() == [(1,)]
