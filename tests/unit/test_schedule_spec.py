"""ScheduleSpec and the ticks it names: checked construction (typed errors), interval and
cron ticks, time zones across daylight-saving changes, jitter, tick workflow ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aion_ray.control.schedules.times import (
    fire_time,
    next_fire_times,
    tick_workflow_id,
    ticks_after,
    ticks_between,
)
from aion_ray.errors import InvalidInputError, ScheduleSpecError
from aion_ray.model.schedule import ScheduleSpec, schedule_spec

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def first(spec: ScheduleSpec, after: datetime, count: int) -> list[datetime]:
    return list(islice(ticks_after(spec, after), count))


@pytest.mark.parametrize(
    ("options", "names"),
    [
        ({}, "exactly one of every= and cron="),
        ({"every": timedelta(hours=1), "cron": "0 * * * *"}, "exactly one"),
        ({"every": timedelta(0)}, "every="),
        ({"every": timedelta(seconds=-5)}, "every="),
        ({"every": timedelta(milliseconds=500)}, "every="),
        ({"every": 3600}, "every must be a timedelta"),
        ({"cron": "61 * * * *"}, "cron='61 \\* \\* \\* \\*' is invalid"),
        ({"cron": "0 2 * *"}, "five fields"),
        ({"cron": "0 0 2 * * *"}, "five fields"),
        ({"cron": "@daily"}, "five fields"),
        ({"cron": 5}, "five fields"),
        ({"cron": "0 2 * * *", "timezone": "Mars/Olympus"}, "not a known IANA time zone"),
        ({"cron": "0 2 * * *", "timezone": ""}, "timezone"),
        ({"cron": "0 2 * * *", "overlap": "queue"}, "overlap='queue' is not a policy"),
        ({"cron": "0 2 * * *", "catchup_window": timedelta(seconds=-1)}, "catchup_window"),
        ({"cron": "0 2 * * *", "jitter": 5}, "jitter must be a timedelta"),
        ({"cron": "0 2 * * *", "start_at": T0, "end_at": T0}, "not after start_at"),
        ({"cron": "0 2 * * *", "start_at": datetime(2026, 1, 1)}, "aware datetime"),
        ({"cron": "0 2 * * *", "paused": "yes"}, "paused must be a bool"),
        ({"cron": "0 2 * * *", "search_attributes": {"at": T0}}, "search attribute 'at'"),
        ({"cron": "0 2 * * *", "every_day": True}, "unknown schedule option"),
    ],
)
def test_a_spec_that_cannot_work_is_refused_with_a_typed_error(
    options: dict[str, Any], names: str
) -> None:
    with pytest.raises(ScheduleSpecError, match=names) as caught:
        schedule_spec(**options)
    assert isinstance(caught.value, InvalidInputError)


def test_a_good_spec_keeps_what_it_was_given() -> None:
    spec = schedule_spec(
        cron="0 2 * * 1-5",
        timezone="Europe/Paris",
        overlap="buffer_all",
        catchup_window=timedelta(hours=1),
        jitter=timedelta(minutes=2),
        search_attributes={"team": "ml"},
    )
    assert spec.zone == PARIS
    assert spec.overlap == "buffer_all"
    assert spec.search_attributes == {"team": "ml"}
    assert ScheduleSpec.model_validate_json(spec.model_dump_json()) == spec


def test_pausing_does_not_make_another_spec() -> None:
    spec = schedule_spec(every=timedelta(hours=1))
    assert spec.same_ticks(spec.model_copy(update={"paused": True, "note": "holiday"}))
    assert not spec.same_ticks(schedule_spec(every=timedelta(hours=2)))


def test_intervals_are_anchored_at_the_epoch_or_at_start_at() -> None:
    hourly = schedule_spec(every=timedelta(hours=1))
    after = T0 + timedelta(minutes=17)
    assert first(hourly, after, 2) == [T0 + timedelta(hours=1), T0 + timedelta(hours=2)]
    assert first(hourly, T0, 1) == [T0 + timedelta(hours=1)]  # strictly after
    start = T0 + timedelta(minutes=10)
    anchored = schedule_spec(every=timedelta(hours=1), start_at=start)
    assert first(anchored, T0, 2) == [start, start + timedelta(hours=1)]


def test_no_tick_falls_after_end_at() -> None:
    spec = schedule_spec(every=timedelta(hours=1), end_at=T0 + timedelta(hours=2))
    assert first(spec, T0, 10) == [T0 + timedelta(hours=1), T0 + timedelta(hours=2)]


def test_cron_ticks_are_read_in_the_time_zone() -> None:
    spec = schedule_spec(cron="0 2 * * *", timezone="America/New_York")
    ticks = first(spec, T0, 2)
    assert [t.astimezone(NEW_YORK).hour for t in ticks] == [2, 2]
    assert ticks[0] == datetime(2026, 1, 1, 7, tzinfo=UTC)  # EST is UTC-5


def test_a_local_time_the_spring_change_skips_runs_once_just_after_the_gap() -> None:
    spec = schedule_spec(cron="30 2 * * *", timezone="Europe/Paris")
    ticks = first(spec, datetime(2026, 3, 27, tzinfo=UTC), 4)
    local = [t.astimezone(PARIS) for t in ticks]
    assert [(t.day, t.hour, t.minute) for t in local] == [
        (27, 2, 30),
        (28, 2, 30),
        (29, 3, 0),  # 02:30 does not exist on 29 March: the clocks jump from 02:00 to 03:00
        (30, 2, 30),
    ]


def test_a_local_time_the_autumn_change_repeats_runs_once() -> None:
    spec = schedule_spec(cron="30 2 * * *", timezone="Europe/Paris")
    ticks = first(spec, datetime(2026, 10, 24, tzinfo=UTC), 3)
    assert [t.astimezone(PARIS).day for t in ticks] == [24, 25, 26]
    # 02:30 happens twice on 25 October (03:00 summer time goes back to 02:00): the tick
    # runs at the first one only, and the day after comes 25 hours later.
    assert ticks[1] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert ticks[2] - ticks[1] == timedelta(hours=25)


def test_an_hourly_cron_in_a_zone_with_a_change_keeps_whole_hours() -> None:
    spec = schedule_spec(cron="0 * * * *", timezone="Europe/Paris")
    ticks = first(spec, datetime(2026, 3, 29, 0, 30, tzinfo=UTC), 3)
    assert [t - ticks[0] for t in ticks] == [timedelta(0), timedelta(hours=1), timedelta(hours=2)]


def test_ticks_between_includes_both_ends() -> None:
    spec = schedule_spec(every=timedelta(hours=1))
    ticks = ticks_between(spec, T0, T0 + timedelta(hours=3))
    assert ticks == [T0 + timedelta(hours=h) for h in range(4)]


def test_jitter_is_below_its_bound_and_the_same_every_time() -> None:
    spec = schedule_spec(every=timedelta(hours=1), jitter=timedelta(minutes=10))
    ticks = first(spec, T0, 50)
    delays = [fire_time("nightly", spec, t) - t for t in ticks]
    assert all(timedelta(0) <= d < timedelta(minutes=10) for d in delays)
    assert len(set(delays)) > 40  # spread out, not one fixed delay
    assert delays == [fire_time("nightly", spec, t) - t for t in ticks]
    assert delays != [fire_time("weekly", spec, t) - t for t in ticks]
    plain = schedule_spec(every=timedelta(hours=1))
    assert next_fire_times("nightly", plain, T0, 2) == first(plain, T0, 2)


def test_a_tick_names_its_run() -> None:
    tick = datetime(2026, 3, 1, 2, tzinfo=PARIS)
    assert tick_workflow_id("nightly", tick) == "nightly@2026-03-01T01:00:00Z"
    fine = T0 + timedelta(microseconds=5)
    assert tick_workflow_id("s", fine) == "s@2026-01-01T00:00:00.000005Z"
    assert tick_workflow_id("s", fine) != tick_workflow_id("s", T0)
