"""DuckDB store durability: everything survives close and reopen of the same file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from aion_ray.errors import (
    FencedError,
    InvalidEventError,
    SequenceConflictError,
    StoreError,
    WorkflowTerminalError,
)
from aion_ray.model import events as ev
from aion_ray.model.payload import encode
from aion_ray.storage import DuckDBHistoryStore, LifecycleEntry
from aion_ray.storage.contract import AppendRequest, SuspendedWorkflow
from aion_ray.storage.duckdb.appenders import ARROW_MIN_ROWS
from aion_ray.storage.schema import SCHEMA_VERSION
from tests.builders import T0, HistoryBuilder, completed_history, one_of_each

FAR_FUTURE = T0 + timedelta(days=365)


class StoreFile:
    """One store file, reopened on demand; at most one store is open on it at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.store: DuckDBHistoryStore | None = None

    def reopen(self, **options: Any) -> DuckDBHistoryStore:
        self.close()
        self.store = DuckDBHistoryStore(self.path, **options)
        return self.store

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def set_schema_version(self, version: str) -> None:
        self.close()
        with duckdb.connect(str(self.path)) as con:
            con.execute("UPDATE aion_meta SET value = ? WHERE key = 'schema_version'", [version])


@pytest.fixture
def file(tmp_path: Path) -> Iterator[StoreFile]:
    handle = StoreFile(tmp_path / "history.duckdb")
    yield handle
    handle.close()


def append_all(store: DuckDBHistoryStore, events: list[ev.Event], expected_seq: int = 0) -> int:
    lease = store.acquire_lease(events[0].workflow_id)
    head: int = store.append(events[0].workflow_id, events, expected_seq=expected_seq, lease=lease)
    return head


def signal(workflow_id: str, seq: int, name: str) -> ev.SignalReceived:
    at, payload = T0, encode(0)
    return ev.SignalReceived(
        workflow_id=workflow_id, run_id="run-1", seq=seq, recorded_at=at, name=name, payload=payload
    )


def exported_keys(directory: Path) -> list[tuple[str, int]]:
    keys: list[tuple[str, int]] = []
    for file in sorted(directory.glob("events-*.parquet")):
        table = pq.read_table(file)
        ids, seqs = table.column("workflow_id").to_pylist(), table.column("seq").to_pylist()
        keys.extend(zip(ids, seqs, strict=True))
    return keys


def test_histories_and_visibility_survive_reopen(file: StoreFile) -> None:
    store = file.reopen()
    everything, done = one_of_each(), completed_history()
    append_all(store, everything)
    append_all(store, done)
    running = HistoryBuilder("wf-running", start=T0 + timedelta(hours=1))
    running.started("train")
    running.add(ev.SearchAttributesUpdated, attributes={"team": "ml", "tags": ["x"], "ok": True})
    append_all(store, running.events)
    listed = store.list_workflows()
    assert len(listed) == 3
    store = file.reopen()
    assert store.read_history("wf-all") == everything
    assert store.read_history("wf-done") == done
    assert store.read_history("wf-running") == running.events
    assert store.list_workflows() == listed
    assert store.count_workflows() == 3
    assert store.workflow_info("wf-running") == listed[-1]
    assert listed[-1].search_attributes == {"team": "ml", "tags": ["x"], "ok": True}


def test_due_timers_survive_reopen(file: StoreFile) -> None:
    store = file.reopen()
    b = HistoryBuilder()
    start = b.started(execution_timeout=600.0)
    b.timer(1, 10)
    b.add(ev.TimerFired, timer_id=1)
    pending = b.timer(2, 20)
    append_all(store, b.events)
    before = store.due_timers(FAR_FUTURE)
    store = file.reopen()
    after = store.due_timers(FAR_FUTURE)
    assert after == before
    assert {(t.timer_id, t.fire_at) for t in after} == {
        (0, start.recorded_at + timedelta(seconds=600)),
        (2, pending.fire_at),
    }
    assert store.due_timers(pending.fire_at - timedelta(microseconds=1)) == []


def test_a_run_ending_after_reopen_clears_its_timers(file: StoreFile) -> None:
    """The writer skips clearing the index for workflows it knows have no rows; after a
    reopen it must learn from the file that this one has some."""
    store = file.reopen()
    b = HistoryBuilder()
    b.started()
    b.timer(1, 10)
    lease = store.acquire_lease("wf-1")
    store.append("wf-1", b.events, expected_seq=0, lease=lease)
    store = file.reopen(state_cache_size=1)
    b.completed()
    store.append("wf-1", b.since(2), expected_seq=2, lease=lease)
    assert store.due_timers(FAR_FUTURE) == []
    store = file.reopen()
    assert store.due_timers(FAR_FUTURE) == []


def test_a_timer_armed_and_cleared_in_one_group_leaves_no_row(file: StoreFile) -> None:
    store = file.reopen()
    b = HistoryBuilder()
    b.started()
    b.timer(1, 10)
    b.completed()
    append_all(store, b.events)  # new workflow: the index had no rows, the delta drops its own
    assert store.due_timers(FAR_FUTURE) == []
    store = file.reopen()
    assert store.due_timers(FAR_FUTURE) == []


def test_lifecycle_entries_survive_reopen(file: StoreFile) -> None:
    store = file.reopen()
    entries = [
        LifecycleEntry(workflow_id="wf-1", run_id="run-1", recorded_at=T0, kind="crash"),
        LifecycleEntry(
            workflow_id="wf-1",
            recorded_at=T0 + timedelta(seconds=1),
            kind="placed",
            detail={"node": "n-1", "gpus": 2, "nested": {"ok": True}},
        ),
        SuspendedWorkflow(workflow_id="wf-2", run_id="r-2", head=3, host="h-1").entry(T0),
    ]
    store.record_lifecycle(entries)
    store = file.reopen()
    assert store.read_lifecycle("wf-1") == entries[:2]
    assert store.read_lifecycle("wf-2") == entries[2:]
    assert store.read_lifecycle("wf-none") == []


def test_a_lease_from_before_reopen_is_fenced_by_one_after(file: StoreFile) -> None:
    store = file.reopen()
    b = HistoryBuilder()
    b.started()
    first = store.acquire_lease("wf-1")
    second = store.acquire_lease("wf-1")
    store.append("wf-1", b.events, expected_seq=0, lease=second)
    store = file.reopen()
    third = store.acquire_lease("wf-1", holder="new-owner")
    assert (first.epoch, second.epoch, third.epoch) == (1, 2, 3)
    b.activity(1)
    for stale in (first, second):
        with pytest.raises(FencedError) as caught:
            store.append("wf-1", b.since(1), expected_seq=1, lease=stale)
        assert (caught.value.epoch, caught.value.current_epoch) == (stale.epoch, 3)
    assert store.append("wf-1", b.since(1), expected_seq=1, lease=third) == 4
    store = file.reopen()
    assert store.acquire_lease("wf-1").epoch == 4


def test_an_unfenced_lease_keeps_working_after_reopen(file: StoreFile) -> None:
    store = file.reopen()
    b = HistoryBuilder()
    b.started()
    lease = store.acquire_lease("wf-1")
    store.append("wf-1", b.events, expected_seq=0, lease=lease)
    store = file.reopen()
    b.activity(1)
    assert store.append("wf-1", b.since(1), expected_seq=1, lease=lease) == 4
    assert store.read_history("wf-1") == b.events


def test_appends_continue_at_the_persisted_head(file: StoreFile) -> None:
    store = file.reopen()
    b = HistoryBuilder()
    b.started()
    b.activity(1)
    append_all(store, b.events)
    store = file.reopen()
    lease = store.acquire_lease("wf-1")
    b.activity(2)
    with pytest.raises(SequenceConflictError) as caught:
        store.append("wf-1", [signal("wf-1", 2, "rival")], expected_seq=1, lease=lease)
    assert (caught.value.expected, caught.value.found) == (1, 4)
    # A retry of the batch that landed before the reopen is recognised, not duplicated.
    assert store.append("wf-1", b.events[:4], expected_seq=0, lease=lease) == 4
    assert store.append("wf-1", b.since(4), expected_seq=4, lease=lease) == 7
    assert store.read_history("wf-1") == b.events


def test_the_terminal_guard_survives_reopen(file: StoreFile) -> None:
    store = file.reopen()
    done = completed_history("wf-1")
    append_all(store, done)
    b = HistoryBuilder("wf-2")
    b.started()
    b.add(ev.WorkflowContinuedAsNew, workflow_type="pipeline", input=encode(2), next_run_id="r-2")
    append_all(store, b.events)
    store = file.reopen()
    with pytest.raises(WorkflowTerminalError):
        store.append(
            "wf-1", [signal("wf-1", 6, "late")], expected_seq=5, lease=store.acquire_lease("wf-1")
        )
    lease = store.acquire_lease("wf-2")
    wrong = ev.WorkflowStarted(
        workflow_id="wf-2",
        run_id="r-x",
        seq=3,
        recorded_at=T0,
        workflow_type="pipeline",
        input=encode(2),
        parent_run_id="run-1",
    )
    with pytest.raises(InvalidEventError, match="continued as r-2"):
        store.append("wf-2", [wrong], expected_seq=2, lease=lease)
    right = wrong.model_copy(update={"run_id": "r-2"})
    assert store.append("wf-2", [right], expected_seq=2, lease=lease) == 3
    info = store.workflow_info("wf-2")
    assert info is not None
    assert (info.run_id, info.status) == ("r-2", "running")


def test_the_export_watermark_survives_reopen(file: StoreFile, tmp_path: Path) -> None:
    out = tmp_path / "export"
    store = file.reopen()
    done = completed_history("wf-1")
    append_all(store, done)
    assert store.export_parquet(out).events_exported == len(done)
    store = file.reopen()
    again = store.export_parquet(out)
    assert again.events_exported == 0
    assert not any(name.startswith("events-") for name in again.files)
    more = completed_history("wf-2")
    append_all(store, more)
    assert store.export_parquet(out).events_exported == len(more)
    keys = exported_keys(out)
    assert sorted(keys) == sorted({*keys})
    assert len(keys) == len(done) + len(more)


def test_events_appended_after_reopen_are_exported_after_an_eventless_commit(
    file: StoreFile, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    store = file.reopen()
    done = completed_history("wf-1")
    append_all(store, done)
    # The last commits before the export write no events: a lease and a lifecycle entry.
    lease = store.acquire_lease("wf-2")
    store.record_lifecycle([LifecycleEntry(workflow_id="wf-1", recorded_at=T0, kind="crash")])
    assert store.export_parquet(out).events_exported == len(done)
    store = file.reopen()
    b = HistoryBuilder("wf-2")
    b.started()
    store.append("wf-2", b.events, expected_seq=0, lease=lease)
    assert store.export_parquet(out).events_exported == 1
    assert sorted(exported_keys(out)) == sorted(
        [*((e.workflow_id, e.seq) for e in done), ("wf-2", 1)]
    )


@pytest.mark.parametrize("version", ["999", "0", "not-a-number"])
def test_a_file_with_another_schema_version_is_refused(file: StoreFile, version: str) -> None:
    store = file.reopen()
    append_all(store, completed_history())
    file.set_schema_version(version)
    with pytest.raises(StoreError, match="schema version"):
        DuckDBHistoryStore(file.path)
    # The refused open released the file: it can be repaired and opened again.
    file.set_schema_version(str(SCHEMA_VERSION))
    assert file.reopen().read_history("wf-done") == completed_history()


def test_closing_twice_does_not_raise(tmp_path: Path) -> None:
    store = DuckDBHistoryStore(tmp_path / "history.duckdb")
    append_all(store, completed_history())
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.read_history("wf-done")


def test_a_path_in_a_missing_directory_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open history store"):
        DuckDBHistoryStore(tmp_path / "no" / "such" / "dir" / "history.duckdb")
    assert not (tmp_path / "no").exists()


def test_state_cache_eviction_keeps_histories_and_conflicts_correct(file: StoreFile) -> None:
    store = file.reopen(state_cache_size=2)
    builders = [HistoryBuilder(f"wf-{i}") for i in range(5)]
    leases = {b.workflow_id: store.acquire_lease(b.workflow_id) for b in builders}
    for b in builders:
        b.started()
        store.append(b.workflow_id, b.events, expected_seq=0, lease=leases[b.workflow_id])
    for round_ in range(1, 7):
        for b in builders:
            lease, head = leases[b.workflow_id], b.head
            rival = signal(b.workflow_id, head, "rival")
            with pytest.raises(SequenceConflictError) as caught:
                store.append(b.workflow_id, [rival], expected_seq=head - 1, lease=lease)
            assert (caught.value.expected, caught.value.found) == (head - 1, head)
            b.add(ev.SignalReceived, name=f"s{round_}", payload=encode(round_))
            assert (
                store.append(b.workflow_id, b.since(head), expected_seq=head, lease=lease)
                == head + 1
            )
    for b in builders:
        b.completed()
        head = b.head - 1
        store.append(b.workflow_id, b.since(head), expected_seq=head, lease=leases[b.workflow_id])
    for b in builders:
        assert store.read_history(b.workflow_id) == b.events
        info = store.workflow_info(b.workflow_id)
        assert info is not None
        assert info.status == "completed"
        # The evicted state still knows the run has ended and the lease epoch.
        late = b.add(ev.SignalReceived, name="late", payload=encode(0))
        with pytest.raises(WorkflowTerminalError):
            store.append(
                b.workflow_id, [late], expected_seq=b.head - 1, lease=leases[b.workflow_id]
            )
        newer = store.acquire_lease(b.workflow_id)
        assert newer.epoch == leases[b.workflow_id].epoch + 1
    assert store.count_workflows() == 5
    store = file.reopen(state_cache_size=2)
    for b in builders:
        assert store.read_history(b.workflow_id) == b.events[:-1]


def test_small_and_large_groups_store_the_same_rows(file: StoreFile) -> None:
    """A lone small append goes through an appender, a large one as an Arrow table
    (ARROW_MIN_ROWS): both must store identical rows, to the microsecond."""
    store = file.reopen()
    small = HistoryBuilder("wf-small", start=T0 + timedelta(microseconds=123_457))
    large = HistoryBuilder("wf-large", start=T0 + timedelta(microseconds=123_457))
    for b in (small, large):
        b.started()
        for activity_id in range(1, 30):
            b.activity(activity_id)
    assert len(large.events) > ARROW_MIN_ROWS
    for event in small.events:
        append_all(store, [event], expected_seq=event.seq - 1)
    append_all(store, large.events)
    store = file.reopen()
    assert store.read_history("wf-small") == small.events
    assert store.read_history("wf-large") == large.events
    rows = store.sql(
        "SELECT workflow_id, seq, type, recorded_at, data FROM events ORDER BY workflow_id, seq"
    ).to_pylist()
    by_id = {wid: [r for r in rows if r["workflow_id"] == wid] for wid in ("wf-small", "wf-large")}
    strip = [{k: v for k, v in r.items() if k != "workflow_id"} for r in by_id["wf-small"]]
    assert strip == [{k: v for k, v in r.items() if k != "workflow_id"} for r in by_id["wf-large"]]
    assert by_id["wf-large"][0]["recorded_at"] == large.events[0].recorded_at


def test_writer_stats_account_for_every_request(file: StoreFile) -> None:
    store = file.reopen()
    history = completed_history()
    lease = store.acquire_lease(history[0].workflow_id)
    for event in history:
        store.append(event.workflow_id, [event], expected_seq=event.seq - 1, lease=lease)
    stale = signal(history[0].workflow_id, 5, "late")  # seq 5 is taken by another event
    with pytest.raises(SequenceConflictError):
        store.append(stale.workflow_id, [stale], expected_seq=4, lease=lease)
    stats = store.writer_stats
    assert stats.requests == 1 + len(history) + 1  # the lease, the appends, the refused one
    assert stats.groups == stats.requests  # one at a time: each committed inline, alone
    assert stats.writing_seconds > 0
    assert stats.staging_seconds > 0
    assert stats.replying_seconds >= 0
    # the snapshot is a copy: later work does not change it
    store.acquire_lease("wf-other")
    assert stats.requests == 1 + len(history) + 1
    assert store.writer_stats.requests == stats.requests + 1


def test_an_evicted_workflow_keeps_the_visibility_that_still_trails(file: StoreFile) -> None:
    hour = 3600.0
    store = file.reopen(state_cache_size=1, trail_idle=hour, trail_max_age=hour)
    first, second = HistoryBuilder("wf-first"), HistoryBuilder("wf-second")
    for b in (first, second):  # the second start evicts the first from the state cache
        b.started()
        append_all(store, b.events)
    first.completed()
    store.append(
        first.workflow_id,
        first.since(first.head - 1),
        expected_seq=first.head - 1,
        lease=store.acquire_lease(first.workflow_id),
    )
    statuses = {info.workflow_id: info.status for info in store.list_workflows()}
    assert statuses == {"wf-first": "completed", "wf-second": "running"}


def test_a_reopened_store_refuses_a_second_start_of_a_stored_id(file: StoreFile) -> None:
    store = file.reopen()
    builders = [HistoryBuilder(f"wf-{i}") for i in range(50)]
    for b in builders:
        b.started()
        append_all(store, b.events)
    for _ in range(2):  # before and after the known ids are loaded from the file
        store = file.reopen()
        for b in builders:
            again = HistoryBuilder(b.workflow_id, run_id="another-run")
            again.started()
            with pytest.raises(SequenceConflictError):
                store.append(
                    b.workflow_id,
                    again.events,
                    expected_seq=0,
                    lease=store.acquire_lease(b.workflow_id),
                )


@pytest.mark.parametrize("first_write", ["lifecycle", "start"])
def test_the_first_write_after_reopening_a_file_of_finished_workflows_succeeds(
    file: StoreFile, first_write: str
) -> None:
    # Opening reads the visibility watermark on the write connection; a result left
    # half-read there made the first single-statement write after a restart fail.
    append_all(file.reopen(), completed_history("wf-done"))
    store = file.reopen()
    entry = LifecycleEntry(
        workflow_id="wf-new", run_id="run-1", recorded_at=T0, kind="placed", detail={}
    )
    if first_write == "lifecycle":
        store.record_lifecycle([entry])
    else:  # as a host starts a workflow: the lease and the placement ride on the append
        b = HistoryBuilder("wf-new")
        b.started()
        request = AppendRequest(
            "wf-new", b.events, expected_seq=0, acquire="host-1", lifecycle=[entry]
        )
        [result] = store.append_batch([request])
        assert result.ok, result.error
        assert store.read_history("wf-new") == b.events
    assert store.read_lifecycle("wf-new") == [entry]
