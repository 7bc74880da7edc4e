"""A step decided over a store that answers asynchronously (``statuses.decided``): the
statuses the plan asks for are fetched in one go and the step is decided again with them,
so a tick whose run exists already (a crash before its state was stored) is recorded, not
started twice; and the ScheduleBook answers what is due without a store."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

import pytest

from aion_ray.control.schedules.book import ScheduleBook
from aion_ray.control.schedules.lifecycle import new_schedule, paused
from aion_ray.control.schedules.plan import advance
from aion_ray.control.schedules.statuses import decided
from aion_ray.control.schedules.times import tick_workflow_id
from aion_ray.errors import ScheduleNotFoundError
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.payload import Payload
from aion_ray.model.schedule import schedule_spec

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_tick_started_before_a_crash_is_recorded_not_started_again() -> None:
    spec = schedule_spec(every=timedelta(hours=1), catchup_window=timedelta(hours=2))
    schedule = new_schedule("s", "w", Payload(), spec, T0)
    first = tick_workflow_id("s", T0 + timedelta(hours=1))
    store = {first: WorkflowStatus.COMPLETED}
    fetched: list[list[str]] = []

    async def fetch(ids: Sequence[str]) -> Mapping[str, WorkflowStatus | None]:
        fetched.append(list(ids))
        return {wid: store.get(wid) for wid in ids}

    now = T0 + timedelta(hours=2)
    step = asyncio.run(decided(lambda status_of: advance(schedule, now, status_of), fetch))
    assert [run.workflow_id for run in step.starts] == [tick_workflow_id("s", now)]
    assert [run.workflow_id for run in step.schedule.state.recent_runs] == [
        first,
        tick_workflow_id("s", now),
    ]
    assert len(fetched) == 1  # one fetch, then the step is decided with what it brought


def test_the_book_answers_what_is_due_and_what_fires_next() -> None:
    every = schedule_spec(every=timedelta(hours=1))
    a = new_schedule("a", "w", Payload(), every, T0)
    b = paused(new_schedule("b", "w", Payload(), every, T0), "off", T0)
    book = ScheduleBook([a, b])
    assert book.next_due() == T0 + timedelta(hours=1)
    assert book.due(T0) == []
    assert [s.schedule_id for s in book.due(T0 + timedelta(hours=1))] == ["a"]
    book.dropped("a")
    assert book.next_due() is None
    with pytest.raises(ScheduleNotFoundError):
        book.get("a")
