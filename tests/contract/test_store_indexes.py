"""The store's derived indexes: visibility, timers, lifecycle, read-only SQL and export.

Every test runs against both stores (see the ``store`` fixture).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from aion_ray.errors import SqlRefusedError
from aion_ray.model import events as ev
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.payload import encode
from aion_ray.model.visibility import WorkflowFilter
from aion_ray.storage import HistoryStore, LifecycleEntry
from aion_ray.storage.contract import SuspendedWorkflow
from tests.builders import T0, HistoryBuilder, completed_history, one_of_each


def append_all(store: HistoryStore, events: list[ev.Event], expected_seq: int = 0) -> int:
    lease = store.acquire_lease(events[0].workflow_id)
    return store.append(events[0].workflow_id, events, expected_seq=expected_seq, lease=lease)


def populate(store: HistoryStore) -> None:
    """Three workflows: a running trainer, a completed evaluator, a failed trainer."""
    running = HistoryBuilder("a-running", start=T0)
    running.started("train")
    running.add(ev.SearchAttributesUpdated, attributes={"team": "ml", "tags": ["gpu", "big"]})
    append_all(store, running.events)
    done = HistoryBuilder("b-done", start=T0 + timedelta(hours=1))
    done.started("evaluate")
    done.add(ev.SearchAttributesUpdated, attributes={"team": "data", "epochs": 10, "ok": True})
    done.completed()
    append_all(store, done.events)
    failed = HistoryBuilder("c-failed", start=T0 + timedelta(hours=2))
    failed.started("train")
    failed.add(ev.SearchAttributesUpdated, attributes={"team": "ml", "epochs": 1})
    failed.failed()
    append_all(store, failed.events)


def ids(store: HistoryStore, **conditions: object) -> list[str]:
    flt = WorkflowFilter.model_validate(conditions)
    found = [info.workflow_id for info in store.list_workflows(flt)]
    assert store.count_workflows(flt.model_copy(update={"limit": None, "offset": 0})) >= len(found)
    return found


def test_visibility_filters(store: HistoryStore) -> None:
    populate(store)
    hour = timedelta(hours=1)
    assert ids(store) == ["a-running", "b-done", "c-failed"]
    assert ids(store, workflow_type="train") == ["a-running", "c-failed"]
    assert ids(store, status=("running",)) == ["a-running"]
    assert ids(store, status=("completed", "failed")) == ["b-done", "c-failed"]
    assert ids(store, started_after=T0 + hour) == ["b-done", "c-failed"]
    assert ids(store, started_before=T0 + hour * 1.5) == ["a-running", "b-done"]
    assert ids(store, closed_after=T0) == ["b-done", "c-failed"]
    assert ids(store, closed_before=T0 + hour * 1.5) == ["b-done"]
    assert ids(store, limit=1, offset=1) == ["b-done"]
    assert ids(store, offset=5) == []


def test_search_attribute_filters(store: HistoryStore) -> None:
    populate(store)
    assert ids(store, search_attributes={"team": "ml"}) == ["a-running", "c-failed"]
    assert ids(store, search_attributes={"tags": "gpu"}) == ["a-running"]
    assert ids(store, search_attributes={"epochs": 10}) == ["b-done"]
    assert ids(store, search_attributes={"ok": True}) == ["b-done"]
    assert ids(store, search_attributes={"ok": 1}) == []
    assert ids(store, search_attributes={"team": "ml", "epochs": 1}) == ["c-failed"]
    assert ids(store, search_attributes={"missing": "x"}) == []
    assert store.count_workflows(WorkflowFilter(search_attributes={"team": "ml"})) == 2


def test_workflow_info_follows_the_history(store: HistoryStore) -> None:
    populate(store)
    info = store.workflow_info("b-done")
    assert info is not None
    assert info.status is WorkflowStatus.COMPLETED
    assert info.workflow_type == "evaluate"
    assert info.search_attributes == {"team": "data", "epochs": 10, "ok": True}
    assert info.closed_at is not None
    assert info.closed_at > info.started_at
    assert store.workflow_info("nope") is None


def test_rebuilt_visibility_equals_the_incremental_one(store: HistoryStore) -> None:
    populate(store)
    append_all(store, one_of_each())
    before = store.list_workflows()
    timers_before = store.due_timers(T0 + timedelta(days=365))
    assert store.rebuild_visibility() == 4
    assert store.list_workflows() == before
    assert store.due_timers(T0 + timedelta(days=365)) == timers_before


def test_due_timers_boundary_and_lifecycle(store: HistoryStore) -> None:
    b = HistoryBuilder()
    b.started(execution_timeout=600.0)
    first = b.timer(1, 10)
    second = b.timer(2, 100)
    append_all(store, b.events)
    assert [t.timer_id for t in store.due_timers(first.fire_at)] == [1]
    assert store.due_timers(first.fire_at - timedelta(microseconds=1)) == []
    deadline = b.events[0].recorded_at + timedelta(seconds=600)
    assert [t.timer_id for t in store.due_timers(deadline)] == [1, 2, 0]
    lease = store.acquire_lease("wf-1")
    b.add(ev.TimerFired, timer_id=1)
    store.append("wf-1", b.since(3), expected_seq=3, lease=lease)
    assert [t.timer_id for t in store.due_timers(second.fire_at)] == [2]
    b.failed()
    store.append("wf-1", b.since(4), expected_seq=4, lease=lease)
    assert store.due_timers(deadline) == []
    reopened = b.add(ev.WorkflowReopened)
    store.append("wf-1", b.since(5), expected_seq=5, lease=lease)
    # The pending timer is armed again; the run's timeout starts over from the reopen.
    assert [t.timer_id for t in store.due_timers(deadline)] == [2]
    new_deadline = reopened.recorded_at + timedelta(seconds=600)
    assert [t.timer_id for t in store.due_timers(new_deadline)] == [2, 0]


def test_lifecycle_log(store: HistoryStore) -> None:
    entries = [
        LifecycleEntry(
            workflow_id="wf-1", run_id="r", recorded_at=T0, kind="resident", detail={"actor": "a1"}
        ),
        LifecycleEntry(workflow_id="wf-1", recorded_at=T0 + timedelta(seconds=1), kind="crashed"),
        SuspendedWorkflow(workflow_id="wf-2", run_id="r-2", head=3, host="h-1").entry(T0),
    ]
    store.record_lifecycle(entries)
    assert store.read_lifecycle("wf-1") == entries[:2]
    assert store.read_lifecycle("wf-3") == []
    rows = store.sql("select kind, detail->>'actor' as actor from lifecycle order by kind")
    assert rows.to_pylist()[1] == {"kind": "resident", "actor": "a1"}


def test_sql_reads_the_public_schema(store: HistoryStore) -> None:
    populate(store)
    table = store.sql(
        "select type, count(*) as n from events where workflow_id = 'b-done' group by 1 order by 1"
    )
    assert table.to_pylist() == [
        {"type": "SearchAttributesUpdated", "n": 1},
        {"type": "WorkflowCompleted", "n": 1},
        {"type": "WorkflowStarted", "n": 1},
    ]
    payload = store.sql(
        "select data->'$.result.value' as v from events where type = 'WorkflowCompleted'"
    )
    assert payload.to_pylist() == [{"v": '"done"'}]
    assert store.sql("select count(*) as n from workflows where status = 'failed'").to_pylist() == [
        {"n": 1}
    ]


@pytest.mark.parametrize(
    "query",
    [
        "insert into events select * from events",
        "update workflows set status = 'completed'",
        "delete from events",
        "drop table events",
        "create table x as select 1",
        "attach 'other.duckdb' as other",
        "copy events to 'out.csv'",
        "install httpfs",
        "load httpfs",
        "pragma version",
        "set threads = 4",
        "call pragma_version()",
        "checkpoint",
        "begin transaction",
        "select 1; delete from events",
        "select * from events; drop table events",
        "not even sql",
        "",
    ],
)
def test_sql_that_is_not_a_single_query_is_refused(store: HistoryStore, query: str) -> None:
    populate(store)
    before = store.sql("select count(*) as n from events").to_pylist()
    with pytest.raises(SqlRefusedError) as caught:
        store.sql(query)
    assert caught.value.query == query
    assert store.sql("select count(*) as n from events").to_pylist() == before
    assert len(store.list_workflows()) == 3


def test_sql_that_fails_says_why(store: HistoryStore) -> None:
    with pytest.raises(SqlRefusedError, match="failed"):
        store.sql("select no_such_column from events")


def test_export_is_incremental_and_atomic(store: HistoryStore, tmp_path: Path) -> None:
    target = tmp_path / "export"
    populate(store)
    first = store.export_parquet(target)
    assert first.events_exported == 8
    second = store.export_parquet(target)
    assert second.events_exported == 0
    append_all(store, completed_history("d-late"))
    third = store.export_parquet(target)
    assert third.events_exported == 5
    event_files = sorted(p for p in target.iterdir() if p.name.startswith("events-"))
    assert len(event_files) == 2
    assert sum(pq.read_table(p).num_rows for p in event_files) == 13
    assert pq.read_table(target / "workflows.parquet").num_rows == 4
    assert not [p for p in target.iterdir() if p.name.startswith(".")]


def test_payload_json_is_reachable_from_sql(store: HistoryStore) -> None:
    b = HistoryBuilder()
    started = b.started(value={"dataset": "s3://bucket/x", "epochs": 3})
    append_all(store, b.events)
    rows = store.sql("select data->>'$.input.value.dataset' as d from events").to_pylist()
    assert rows == [{"d": "s3://bucket/x"}]
    assert started.input == encode({"dataset": "s3://bucket/x", "epochs": 3})
