"""Schedules on Ray: the registry fires them (interval ticks every second, cron ticks by
backfill), runs carry the schedule id and the scheduled time, the verbs (pause, unpause,
trigger, backfill, update, delete) go through the client, one overlap policy end to end (a
buffered tick released when the run ends), a tick never run twice when the registry is
SIGKILLed while ticking, catch-up after the engine is shut down and connected again (inside
and outside the window), and bad specs refused with typed errors and nothing stored."""

from __future__ import annotations

import importlib
import itertools
import os
import signal
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import aion_ray as aion
from aion_ray.control.schedules.times import tick_workflow_id
from aion_ray.errors import ScheduleNotFoundError, ScheduleSpecError
from aion_ray.model.history import WorkflowStatus
from tests.ray.conftest import Connect
from tests.ray.test_restart import _registry_pid

pytestmark = pytest.mark.ray

SECOND = timedelta(seconds=1)


@aion.workflow
async def tick(ctx: aion.WorkflowContext, n: int) -> int:
    return n


@aion.workflow
async def until_done(ctx: aion.WorkflowContext, n: int) -> int:
    await ctx.wait_signal("done")
    return n


def runs_of(client: aion.Client, schedule_id: str) -> dict[str, aion.WorkflowInfo]:
    found = client.list(search_attributes={"aion_schedule_id": schedule_id})
    return {info.workflow_id: info for info in found}


def wait_for(what: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, "the schedule did not get there in time"
        time.sleep(0.2)


def completed(client: aion.Client, schedule_id: str, n: int) -> Callable[[], bool]:
    def enough() -> bool:
        runs = runs_of(client, schedule_id).values()
        return sum(info.status == WorkflowStatus.COMPLETED for info in runs) >= n

    return enough


def scheduled_times(client: aion.Client, schedule_id: str) -> list[datetime]:
    times = [
        datetime.fromisoformat(str(info.search_attributes["aion_scheduled_time"]))
        for info in runs_of(client, schedule_id).values()
    ]
    return sorted(times)


def consecutive(times: list[datetime], step: timedelta) -> bool:
    return all(b - a == step for a, b in itertools.pairwise(times))


def test_an_interval_schedule_fires_runs_with_the_scheduled_time(engine: aion.Client) -> None:
    client = engine
    handle = client.schedule("every-second", tick, 7, every=SECOND, search_attributes={"k": 1})
    wait_for(completed(client, "every-second", 2))
    for workflow_id, info in runs_of(client, "every-second").items():
        scheduled = datetime.fromisoformat(str(info.search_attributes["aion_scheduled_time"]))
        assert workflow_id == tick_workflow_id("every-second", scheduled)
        assert info.search_attributes["k"] == 1
    described = handle.describe()
    assert described.recent_runs
    assert described.next_fire_times[0] > described.recent_runs[-1].scheduled_at
    assert client.get(described.recent_runs[0].workflow_id).result(timeout=30) == 7
    assert "every-second" in [d.schedule_id for d in client.list_schedules()]
    # Creating it again is idempotent; another spec under the id is refused.
    assert client.schedule("every-second", tick, 7, every=SECOND, search_attributes={"k": 1})
    with pytest.raises(ScheduleSpecError):
        client.schedule("every-second", tick, 7, every=2 * SECOND)
    handle.delete()


def test_the_verbs_through_the_client(engine: aion.Client) -> None:
    client = engine
    handle = client.schedule(
        "cron", tick, 1, cron="*/5 * * * *", timezone="Europe/Paris", overlap="allow_all"
    )
    assert all(t.minute % 5 == 0 and t.second == 0 for t in handle.describe().next_fire_times)

    now = datetime.now(UTC)
    handle.backfill(now - timedelta(minutes=20), now)  # four cron ticks
    handle.backfill(now - timedelta(minutes=20), now)  # the same ticks: nothing new
    wait_for(completed(client, "cron", 4))
    times = scheduled_times(client, "cron")
    assert len(times) == 4
    assert all(t.minute % 5 == 0 for t in times)

    handle.pause("maintenance")
    described = client.get_schedule("cron").describe()
    assert (described.paused, described.note) == (True, "maintenance")
    handle.trigger()  # even while paused
    wait_for(completed(client, "cron", 5))
    assert handle.describe().recent_runs[-1].origin == "trigger"
    handle.unpause()
    handle.update(cron="0 3 * * *")
    assert handle.describe().next_fire_times[0].minute == 0
    assert not handle.describe().paused

    handle.delete()
    with pytest.raises(ScheduleNotFoundError):
        client.get_schedule("cron")
    with pytest.raises(ScheduleNotFoundError):
        handle.trigger()
    assert len(runs_of(client, "cron")) == 5  # its runs stay


def test_buffer_one_starts_the_waiting_tick_when_the_run_ends(engine: aion.Client) -> None:
    client = engine
    handle = client.schedule("buffered", until_done, 1, every=SECOND, overlap="buffer_one")
    wait_for(lambda: handle.describe().skipped >= 1)  # one buffered, the next ones skipped
    [first] = runs_of(client, "buffered")
    assert len(handle.describe().buffered) == 1
    client.get(first).signal("done")
    wait_for(lambda: len(runs_of(client, "buffered")) == 2)
    handle.pause()
    second = max(runs_of(client, "buffered"))
    assert second != first
    assert client.get(first).result(timeout=30) == 1
    client.get(second).signal("done")
    assert client.get(second).result(timeout=30) == 1


def test_a_tick_is_never_run_twice_when_the_registry_is_killed(connect: Connect) -> None:
    client = connect()
    client.schedule("killed", tick, 1, every=SECOND, overlap="allow_all")
    wait_for(completed(client, "killed", 2))
    os.kill(_registry_pid(client), signal.SIGKILL)  # while it ticks every second
    _registry_pid(client, other_than=-1)
    before = len(runs_of(client, "killed"))
    wait_for(completed(client, "killed", before + 3))
    client.get_schedule("killed").pause()
    times = scheduled_times(client, "killed")
    assert consecutive(times, SECOND)  # the ticks of the restart were caught up
    starts = client.sql(
        "SELECT workflow_id, count(*) AS n FROM events WHERE type = 'WorkflowStarted' "
        "AND workflow_id LIKE 'killed@%' GROUP BY workflow_id HAVING count(*) > 1"
    )
    assert starts.num_rows == 0


def test_catch_up_after_a_shutdown_inside_and_outside_the_window(connect: Connect) -> None:
    client = connect()
    namespace, path = client.config.namespace, client.config.store_path
    hour = timedelta(hours=1)
    client.schedule("inside", tick, 1, every=SECOND, catchup_window=hour, overlap="allow_all")
    client.schedule("outside", tick, 1, every=SECOND, catchup_window=2 * SECOND)
    wait_for(completed(client, "outside", 1))
    client.shutdown()
    time.sleep(5)  # down: five ticks of each fall due, and more while it connects again

    client = connect(namespace=namespace, store_path=path)
    wait_for(lambda: client.get_schedule("outside").describe().missed >= 2)
    wait_for(completed(client, "inside", 8))
    assert consecutive(scheduled_times(client, "inside"), SECOND)
    described = client.get_schedule("inside").describe()
    assert (described.missed, described.skipped) == (0, 0)


BAD_SPECS: list[dict[str, object]] = [
    {"cron": "61 * * * *"},
    {"cron": "0 2 * *"},
    {"every": timedelta(0)},
    {"every": -SECOND},
    {"every": SECOND, "overlap": "sometimes"},
    {"cron": "0 2 * * *", "timezone": "Mars/Olympus_Mons"},
    {"every": SECOND, "cron": "0 2 * * *"},
]


def test_bad_specs_are_refused_and_nothing_is_stored(engine: aion.Client) -> None:
    for options in BAD_SPECS:
        with pytest.raises(ScheduleSpecError):
            engine.schedule("bad", tick, 1, **options)
    with pytest.raises(ScheduleNotFoundError):
        engine.get_schedule("bad")
    stored = engine.sql("SELECT count(*) AS n FROM schedules WHERE schedule_id = 'bad'")
    assert stored.to_pylist() == [{"n": 0}]


def test_a_tick_whose_code_cannot_load_is_retried_without_a_busy_loop(
    engine: aion.Client, tmp_path: Path
) -> None:
    # A workflow importable only here: the registry cannot load the code it was given.
    (tmp_path / "only_here.py").write_text(
        "import aion_ray as aion\n\n\n@aion.workflow\n"
        "async def local_only(ctx: aion.WorkflowContext, n: int) -> int:\n    return n\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        only_here = importlib.import_module("only_here")
        handle = engine.schedule("unloadable", only_here.local_only, 1, every=SECOND)
    finally:
        sys.path.remove(str(tmp_path))
    time.sleep(1.5)  # due, and failing
    before = engine.store.stats().get()["load_definitions"]
    time.sleep(3)
    tries = engine.store.stats().get()["load_definitions"] - before
    assert 1 <= tries <= 6  # about one a second, not a loop against the store
    assert runs_of(engine, "unloadable") == {}
    assert handle.describe().recent_runs == ()
    handle.delete()
