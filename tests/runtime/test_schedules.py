"""Schedules on the TestEngine: ticks fire on the fake clock (a month of a daily schedule in
one call), every overlap policy, pause and trigger, backfill, update, delete, one run per
tick, a schedule carried on by a new engine over the same store (catch-up inside and outside
the window), and bad specs refused with typed errors and nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import aion_ray as aion
from aion_ray.control.schedules.times import tick_workflow_id
from aion_ray.errors import InvalidInputError, ScheduleNotFoundError, ScheduleSpecError
from aion_ray.model.history import WorkflowStatus
from aion_ray.storage import DuckDBHistoryStore
from aion_ray.testing import FakeClock, TestEngine
from aion_ray.testing.clock import DEFAULT_START as T0

pytestmark = pytest.mark.usefixtures("on_both_stores")

HOUR, DAY = 3600.0, 86400.0


@aion.workflow
async def report(ctx: aion.WorkflowContext, day: int) -> str:
    await ctx.sleep(600)  # ten minutes of work
    return f"report {day} at {ctx.now().isoformat()}"


@aion.workflow
async def until_done(ctx: aion.WorkflowContext, n: int) -> int:
    await ctx.wait_signal("done")
    return n


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def run_id(hours: float, schedule_id: str = "s") -> str:
    return tick_workflow_id(schedule_id, at(hours))


def runs_of(engine: TestEngine, schedule_id: str = "s") -> dict[str, WorkflowStatus]:
    found = engine.list(search_attributes={"aion_schedule_id": schedule_id})
    return {info.workflow_id: info.status for info in found}


def test_a_month_of_a_daily_schedule_runs_once_a_day() -> None:
    engine = TestEngine()
    engine.schedule("nightly", report, 7, cron="0 2 * * *", timezone="Europe/Paris")
    engine.sleep(31 * DAY)
    runs = engine.list(search_attributes={"aion_schedule_id": "nightly"})
    assert len(runs) == 31
    assert {info.status for info in runs} == {WorkflowStatus.COMPLETED}
    first = runs[0]
    scheduled = datetime(2026, 1, 1, 1, tzinfo=UTC)  # 02:00 in Paris (UTC+1 in winter)
    assert first.workflow_id == tick_workflow_id("nightly", scheduled)
    assert first.search_attributes["aion_scheduled_time"] == scheduled.isoformat()
    ended = scheduled + timedelta(minutes=10)  # it started on time and worked ten minutes
    assert engine.get(first.workflow_id).result() == f"report 7 at {ended.isoformat()}"
    description = engine.get_schedule("nightly").describe()
    assert len(description.recent_runs) == 20
    assert description.next_fire_times[0] == datetime(2026, 2, 1, 1, tzinfo=UTC)
    assert (description.missed, description.skipped) == (0, 0)


def test_interval_ticks_carry_the_spec_search_attributes() -> None:
    engine = TestEngine()
    engine.schedule("s", report, 1, every=timedelta(hours=6), search_attributes={"team": "ml"})
    engine.sleep(DAY)
    assert list(runs_of(engine)) == [run_id(h) for h in (6, 12, 18, 24)]
    info = engine.describe(run_id(6))
    assert info.search_attributes == {
        "team": "ml",
        "aion_schedule_id": "s",
        "aion_scheduled_time": at(6).isoformat(),
    }


def test_creating_again_is_idempotent_and_another_spec_is_refused() -> None:
    engine = TestEngine()
    first = engine.schedule("s", report, 1, every=timedelta(hours=1))
    again = engine.schedule("s", report, 1, every=timedelta(hours=1))
    assert again.describe() == first.describe()
    for other in (
        {"every": timedelta(hours=2)},
        {"cron": "0 * * * *"},
        {"every": timedelta(hours=1), "overlap": "allow_all"},
    ):
        with pytest.raises(ScheduleSpecError, match="exists with another spec"):
            engine.schedule("s", report, 1, **other)
    with pytest.raises(ScheduleSpecError, match="another arg"):
        engine.schedule("s", report, 2, every=timedelta(hours=1))
    with pytest.raises(ScheduleSpecError, match="another workflow"):
        engine.schedule("s", until_done, 1, every=timedelta(hours=1))
    assert engine.get_schedule("s").describe().spec.every == timedelta(hours=1)


@pytest.mark.parametrize(
    ("schedule_id", "arg", "options"),
    [
        ("s", 1, {"cron": "0 25 * * *"}),
        ("s", 1, {"every": timedelta(0)}),
        ("s", 1, {"every": timedelta(minutes=-5)}),
        ("s", 1, {"every": timedelta(hours=1), "overlap": "sometimes"}),
        ("s", 1, {"cron": "0 2 * * *", "timezone": "Europe/Atlantis"}),
        ("s", 1, {}),
        ("s", 1, {"every": timedelta(hours=1), "cron": "0 2 * * *"}),
        ("s", 1, {"every": timedelta(hours=1), "start_at": at(5), "end_at": at(1)}),
        (" s", 1, {"every": timedelta(hours=1)}),
        ("s" * 300, 1, {"every": timedelta(hours=1)}),
        ("s", object(), {"every": timedelta(hours=1)}),
    ],
)
def test_a_bad_spec_is_refused_with_a_typed_error_and_nothing_is_stored(
    schedule_id: str, arg: Any, options: dict[str, Any]
) -> None:
    engine = TestEngine()
    with pytest.raises(InvalidInputError):
        engine.schedule(schedule_id, report, arg, **options)
    assert engine.store.schedules.list_schedules() == []
    assert engine.list_schedules() == []
    engine.sleep(DAY)
    assert engine.list() == []


def overlapping(policy: str) -> TestEngine:
    """An hourly schedule of runs that last until signalled, three hours on."""
    engine = TestEngine()
    engine.schedule("s", until_done, 0, every=timedelta(hours=1), overlap=policy)
    engine.sleep(3 * HOUR)
    return engine


def finish(engine: TestEngine, hours: float) -> None:
    engine.get(run_id(hours)).signal("done")


def test_skip_runs_no_tick_while_a_run_is_open() -> None:
    engine = overlapping("skip")
    assert runs_of(engine) == {run_id(1): WorkflowStatus.RUNNING}
    description = engine.get_schedule("s").describe()
    assert description.skipped == 2
    assert description.recent_skipped == (at(2), at(3))


def test_buffer_one_starts_one_waiting_tick_when_the_run_ends() -> None:
    engine = overlapping("buffer_one")
    assert list(runs_of(engine)) == [run_id(1)]
    assert engine.get_schedule("s").describe().buffered == (at(2),)
    finish(engine, 1)
    assert runs_of(engine) == {run_id(1): "completed", run_id(2): "running"}
    assert engine.get_schedule("s").describe().skipped == 1


def test_buffer_all_starts_every_waiting_tick_in_turn() -> None:
    engine = overlapping("buffer_all")
    assert engine.get_schedule("s").describe().buffered == (at(2), at(3))
    finish(engine, 1)
    finish(engine, 2)
    assert runs_of(engine) == {run_id(1): "completed", run_id(2): "completed", run_id(3): "running"}


def test_cancel_other_cancels_the_open_run_then_starts_the_tick() -> None:
    engine = overlapping("cancel_other")
    assert runs_of(engine) == {run_id(1): "cancelled", run_id(2): "cancelled", run_id(3): "running"}


def test_terminate_other_terminates_the_open_run_and_starts_at_once() -> None:
    engine = overlapping("terminate_other")
    assert runs_of(engine) == {
        run_id(1): "terminated",
        run_id(2): "terminated",
        run_id(3): "running",
    }


def test_allow_all_lets_the_runs_overlap() -> None:
    engine = overlapping("allow_all")
    assert runs_of(engine) == {run_id(h): "running" for h in (1, 2, 3)}
    statuses = [(r.workflow_id, r.status) for r in engine.get_schedule("s").describe().recent_runs]
    assert statuses == [(run_id(h), "running") for h in (1, 2, 3)]


def test_pause_with_a_note_trigger_while_paused_and_unpause() -> None:
    engine = TestEngine()
    handle = engine.schedule("s", report, 1, every=timedelta(hours=1))
    handle.pause("data late upstream")
    engine.sleep(3 * HOUR)
    assert runs_of(engine) == {}
    description = handle.describe()
    assert (description.paused, description.note) == (True, "data late upstream")
    handle.trigger()
    assert list(runs_of(engine)) == [run_id(3)]
    assert handle.describe().recent_runs[-1].origin == "trigger"
    handle.unpause()
    engine.sleep(HOUR)
    assert list(runs_of(engine)) == [run_id(3), run_id(4)]
    assert handle.describe().missed == 0


def test_backfill_runs_past_ticks_under_the_policy() -> None:
    engine = TestEngine(clock=FakeClock(T0 + timedelta(days=1)))
    handle = engine.schedule("s", report, 1, every=timedelta(hours=1), overlap="allow_all")
    handle.backfill(at(2), at(4))
    assert list(runs_of(engine)) == [run_id(h) for h in (2, 3, 4)]
    assert {r.origin for r in handle.describe().recent_runs} == {"backfill"}
    handle.backfill(at(2), at(4))  # the same ticks again: the same runs
    assert len(runs_of(engine)) == 3
    with pytest.raises(InvalidInputError):
        handle.backfill(at(4), at(2))
    with pytest.raises(InvalidInputError):
        handle.backfill(datetime(2026, 1, 1), at(2))  # naive


def test_update_changes_the_next_ticks_and_a_bad_update_changes_nothing() -> None:
    engine = TestEngine()
    handle = engine.schedule("s", report, 1, every=timedelta(hours=1))
    handle.update(every=timedelta(hours=4))
    assert handle.describe().next_fire_times[:2] == (at(4), at(8))
    handle.update(cron="30 * * * *")
    assert handle.describe().next_fire_times[0] == at(0.5)
    before = handle.describe()
    with pytest.raises(ScheduleSpecError):
        handle.update(timezone="Nowhere/Else")
    assert handle.describe() == before


def test_delete_stops_the_ticks_and_keeps_the_runs() -> None:
    engine = TestEngine()
    handle = engine.schedule("s", report, 1, every=timedelta(hours=1))
    engine.sleep(HOUR)
    handle.delete()
    engine.sleep(3 * HOUR)
    assert list(runs_of(engine)) == [run_id(1)]
    with pytest.raises(ScheduleNotFoundError):
        engine.get_schedule("s")
    with pytest.raises(ScheduleNotFoundError):
        handle.describe()
    assert engine.list_schedules() == []


def test_list_schedules_describes_each_by_id() -> None:
    engine = TestEngine()
    engine.schedule("b", report, 1, every=timedelta(hours=1))
    engine.schedule("a", report, 1, cron="0 2 * * *", paused=True)
    assert [(d.schedule_id, d.paused) for d in engine.list_schedules()] == [
        ("a", True),
        ("b", False),
    ]


def test_a_trigger_at_a_tick_time_is_that_tick_run() -> None:
    engine = TestEngine()
    handle = engine.schedule("s", report, 1, every=timedelta(hours=1))
    engine.sleep(HOUR)
    handle.trigger()  # now is 01:00, the time of the tick that ran
    assert list(runs_of(engine)) == [run_id(1)]


def test_schedules_are_rows_sql_can_query() -> None:
    engine = TestEngine()
    engine.schedule("s", report, 1, every=timedelta(hours=1), overlap="allow_all")
    engine.sleep(2 * HOUR)
    rows = engine.store.sql("SELECT schedule_id, last_tick_at, next_fire_at FROM schedules")
    assert rows.to_pylist() == [{"schedule_id": "s", "last_tick_at": at(2), "next_fire_at": at(3)}]


@pytest.mark.parametrize(("down_hours", "runs", "missed"), [(0.5, [1, 2], 0), (5, [1, 6, 7], 4)])
def test_a_new_engine_over_the_same_store_carries_on_and_catches_up(
    tmp_path: Path, down_hours: float, runs: list[int], missed: int
) -> None:
    path = tmp_path / "schedules.duckdb"
    hourly: dict[str, Any] = {"every": timedelta(hours=1), "catchup_window": timedelta(hours=1)}
    store = DuckDBHistoryStore(path)
    engine = TestEngine(store=store)
    engine.schedule("s", report, 1, **hourly)
    engine.sleep(1.25 * HOUR)  # the 01:00 run ended at 01:10
    store.close()

    # Down from 01:15 for down_hours: a tick that fell due meanwhile runs if it is within
    # the hour's catch-up window, and is counted missed otherwise.
    store = DuckDBHistoryStore(path)
    try:
        engine = TestEngine(store=store, clock=FakeClock(at(1.25 + down_hours)))
        engine.schedule("s", report, 1, **hourly)  # the same schedule: it carries on
        engine.sleep(HOUR)
        assert list(runs_of(engine)) == [run_id(h) for h in runs]
        assert engine.get_schedule("s").describe().missed == missed
    finally:
        store.close()


def test_a_tick_of_a_workflow_the_engine_was_not_given_says_so(tmp_path: Path) -> None:
    store = DuckDBHistoryStore(tmp_path / "schedules.duckdb")
    try:
        TestEngine(store=store).schedule("s", report, 1, every=timedelta(hours=1))
        engine = TestEngine(store=store)  # a new engine, not given ``report``
        with pytest.raises(ScheduleSpecError, match=r"pass it to engine\.schedule"):
            engine.sleep(HOUR)
        assert runs_of(engine) == {}
    finally:
        store.close()
