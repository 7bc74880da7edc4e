"""The schedules role: whole schedules by id, one row each in the ``schedules`` table
(queryable by SQL), due ones found by their next fire time, bad input refused with nothing
written.

Every test runs against both stores (see the ``store`` fixture); the last ones reopen a
DuckDB file (schedules are durable, an older file gains the table).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from aion_ray.control.schedules.lifecycle import new_schedule, paused
from aion_ray.errors import InvalidInputError, StoreError
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.payload import Payload
from aion_ray.model.schedule import schedule_spec
from aion_ray.model.schedule_state import ScheduleRun, StoredSchedule
from aion_ray.storage import DuckDBHistoryStore, HistoryStore
from aion_ray.storage.schema import SCHEMA_VERSION

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def hourly(schedule_id: str, at: datetime = T0, **spec: Any) -> StoredSchedule:
    options = {"every": timedelta(hours=1), **spec}
    return new_schedule(
        schedule_id, "report", Payload(value={"day": 1}), schedule_spec(**options), at
    )


def with_state(schedule: StoredSchedule, **changes: Any) -> StoredSchedule:
    state = schedule.state.model_copy(update=changes)
    return schedule.model_copy(update={"state": state})


def test_a_schedule_reads_back_as_it_was_put(store: HistoryStore) -> None:
    run = ScheduleRun(
        workflow_id="nightly@2026-01-01T01:00:00Z",
        scheduled_at=T0 + timedelta(hours=1),
        started_at=T0 + timedelta(hours=1, seconds=3),
        status=WorkflowStatus.COMPLETED,
    )
    schedule = with_state(
        hourly("nightly", cron=None, jitter=timedelta(seconds=30), overlap="buffer_all"),
        recent_runs=(run,),
        buffered=(T0 + timedelta(hours=2),),
        missed=3,
        recent_missed=(T0,),
    )
    store.schedules.put_schedule(schedule)
    assert store.schedules.get_schedule("nightly") == schedule
    assert store.schedules.get_schedule("unknown") is None


def test_putting_again_replaces_the_row(store: HistoryStore) -> None:
    store.schedules.put_schedule(hourly("nightly"))
    newer = paused(hourly("nightly"), "holiday", T0 + timedelta(minutes=5))
    store.schedules.put_schedule(newer)
    assert store.schedules.get_schedule("nightly") == newer
    assert store.schedules.list_schedules() == [newer]


def test_schedules_are_listed_by_id_and_paged(store: HistoryStore) -> None:
    for schedule_id in ("c", "a", "b"):
        store.schedules.put_schedule(hourly(schedule_id))
    listed = store.schedules.list_schedules
    assert [s.schedule_id for s in listed()] == ["a", "b", "c"]
    assert [s.schedule_id for s in listed(after="a")] == ["b", "c"]
    assert [s.schedule_id for s in listed(after="a", limit=1)] == ["b"]
    assert listed(limit=0) == []


def test_due_schedules_are_the_unpaused_ones_that_fire_or_hold_buffered_ticks(
    store: HistoryStore,
) -> None:
    store.schedules.put_schedule(hourly("later", at=T0 + timedelta(hours=5)))
    store.schedules.put_schedule(hourly("first"))  # fires at 01:00
    store.schedules.put_schedule(hourly("second", at=T0 + timedelta(minutes=30)))  # 02:00
    store.schedules.put_schedule(paused(hourly("paused"), "off", T0))
    buffered = with_state(hourly("waiting", at=T0 + timedelta(hours=9)), buffered=(T0,))
    store.schedules.put_schedule(buffered)
    due = store.schedules.due_schedules(T0 + timedelta(hours=2))
    assert [s.schedule_id for s in due] == ["first", "second", "waiting"]
    assert [s.schedule_id for s in store.schedules.due_schedules(T0, limit=5)] == ["waiting"]
    assert len(store.schedules.due_schedules(T0 + timedelta(hours=2), limit=1)) == 1


def test_deleting_removes_the_row(store: HistoryStore) -> None:
    store.schedules.put_schedule(hourly("nightly"))
    assert store.schedules.delete_schedule("nightly") is True
    assert store.schedules.delete_schedule("nightly") is False
    assert store.schedules.get_schedule("nightly") is None
    assert store.schedules.list_schedules() == []


def test_schedules_are_rows_sql_can_query(store: HistoryStore) -> None:
    store.schedules.put_schedule(with_state(hourly("nightly"), missed=2, skipped=1))
    store.schedules.put_schedule(paused(hourly("weekly"), "holiday", T0))
    rows = store.sql(
        "SELECT schedule_id, workflow_type, paused, note, missed, skipped, buffered, "
        "next_fire_at, spec->>'overlap' AS overlap FROM schedules ORDER BY schedule_id"
    ).to_pylist()
    assert rows == [
        {
            "schedule_id": "nightly",
            "workflow_type": "report",
            "paused": False,
            "note": "",
            "missed": 2,
            "skipped": 1,
            "buffered": 0,
            "next_fire_at": T0 + timedelta(hours=1),
            "overlap": "skip",
        },
        {
            "schedule_id": "weekly",
            "workflow_type": "report",
            "paused": True,
            "note": "holiday",
            "missed": 0,
            "skipped": 0,
            "buffered": 0,
            "next_fire_at": T0 + timedelta(hours=1),
            "overlap": "skip",
        },
    ]


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("put_schedule", ({"schedule_id": "x"},)),
        ("get_schedule", ("",)),
        ("get_schedule", (7,)),
        ("delete_schedule", (" padded ",)),
        ("due_schedules", ("2026-01-01",)),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    store: HistoryStore, call: str, args: tuple[Any, ...]
) -> None:
    store.schedules.put_schedule(hourly("nightly"))
    with pytest.raises(InvalidInputError):
        getattr(store.schedules, call)(*args)
    assert store.schedules.list_schedules() == [hourly("nightly")]


def test_a_bad_schedule_id_is_refused_on_put(store: HistoryStore) -> None:
    with pytest.raises(InvalidInputError, match="schedule id"):
        store.schedules.put_schedule(hourly("bad\nid"))
    with pytest.raises(InvalidInputError, match="after"):
        store.schedules.list_schedules(after=3)  # type: ignore[arg-type]
    assert store.schedules.list_schedules() == []


def test_a_closed_store_refuses_the_role(store: HistoryStore) -> None:
    store.close()
    with pytest.raises(StoreError):
        store.schedules.list_schedules()


def test_schedules_survive_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "history.duckdb"
    schedule = with_state(hourly("nightly"), skipped=4)
    store = DuckDBHistoryStore(path)
    store.schedules.put_schedule(schedule)
    store.close()
    store = DuckDBHistoryStore(path)
    try:
        assert store.schedules.get_schedule("nightly") == schedule
    finally:
        store.close()


def test_a_version_2_file_gains_the_schedules_table(tmp_path: Path) -> None:
    path = tmp_path / "history.duckdb"
    DuckDBHistoryStore(path).close()
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE schedules")
        con.execute("UPDATE aion_meta SET value = '2' WHERE key = 'schema_version'")
    store = DuckDBHistoryStore(path)
    try:
        version = store.sql("select value from aion_meta where key = 'schema_version'")
        assert version.to_pylist() == [{"value": str(SCHEMA_VERSION)}]
        assert store.schedules.list_schedules() == []
        store.schedules.put_schedule(hourly("nightly"))
        assert [s.schedule_id for s in store.schedules.list_schedules()] == ["nightly"]
    finally:
        store.close()


def test_many_schedules_are_put_in_one_write_all_or_none(store: HistoryStore) -> None:
    store.schedules.put_schedules([hourly("a"), hourly("b"), hourly("c")])
    assert [s.schedule_id for s in store.schedules.list_schedules()] == ["a", "b", "c"]
    newer = with_state(hourly("b"), missed=2)
    with pytest.raises(InvalidInputError):
        store.schedules.put_schedules([newer, "not a schedule"])  # type: ignore[list-item]
    assert store.schedules.get_schedule("b") == hourly("b")  # nothing of the refused write
    store.schedules.put_schedules([newer])
    assert store.schedules.get_schedule("b") == newer
    store.schedules.put_schedules([])
