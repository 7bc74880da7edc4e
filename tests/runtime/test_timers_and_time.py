"""Durable timers, recorded time, deterministic randomness and standard asyncio in workflows."""

from __future__ import annotations

import asyncio
import contextlib
import math
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

import aion_ray as aion
from aion_ray.model import events as ev
from aion_ray.testing import FakeClock, TestEngine, replay
from aion_ray.testing.clock import DEFAULT_START

pytestmark = pytest.mark.usefixtures("on_both_stores")

DAY = 86400.0


@aion.activity
def add(a: int, b: int) -> int:
    return a + b


@aion.activity(retry=aion.RetryPolicy(max_attempts=2, initial_interval=45.0))
def fails_once(key: str) -> str:
    FAILED.setdefault(key, 0)
    FAILED[key] += 1
    if FAILED[key] == 1:
        raise RuntimeError("first attempt fails")
    return key


FAILED: dict[str, int] = {}


@pytest.fixture(autouse=True)
def _fresh_failure_counts() -> None:
    FAILED.clear()  # each test (and each store it runs on) starts with first attempts


def of_type(events: list[ev.Event], cls: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


# --- durable timers -------------------------------------------------------------------------


@aion.workflow
async def sleepers(ctx: aion.WorkflowContext) -> str:
    await ctx.sleep(30 * DAY)
    await asyncio.sleep(90)
    await ctx.sleep(timedelta(hours=2))
    return ctx.now().isoformat()


def test_ctx_sleep_asyncio_sleep_and_timedelta_are_durable_timers() -> None:
    engine = TestEngine()
    handle = engine.start(sleepers, id="wf-sleep")
    expected_end = DEFAULT_START + timedelta(days=30, seconds=90, hours=2)
    assert handle.result() == expected_end.isoformat()
    assert engine.clock.now() == expected_end  # the fake clock skipped, not waited
    history = handle.history()
    started = of_type(history, ev.TimerStarted)
    fired = of_type(history, ev.TimerFired)
    assert [t.timer_id for t in started] == [1, 2, 3] == [f.timer_id for f in fired]
    assert {t.name for t in started} == {"sleep"}
    durations = [timedelta(days=30), timedelta(seconds=90), timedelta(hours=2)]
    for timer, fire, duration in zip(started, fired, durations, strict=True):
        assert timer.fire_at == timer.recorded_at + duration
        assert fire.recorded_at == timer.fire_at


@aion.workflow
async def bad_durations(ctx: aion.WorkflowContext) -> list[str]:
    errors = []
    for duration in (-1, float("nan"), float("inf"), timedelta(seconds=-5)):
        try:
            await ctx.sleep(duration)
        except aion.InvalidInputError as exc:
            errors.append(str(exc))
    return errors


def test_negative_nan_and_infinite_durations_are_refused() -> None:
    engine = TestEngine()
    handle = engine.start(bad_durations, id="wf-bad-durations")
    errors = handle.result()
    assert len(errors) == 4
    assert "finite" in errors[2]
    assert of_type(handle.history(), ev.TimerStarted) == []


@aion.workflow
async def bad_signal_timeout(ctx: aion.WorkflowContext) -> str:
    with contextlib.suppress(aion.InvalidInputError):
        await ctx.wait_signal("go", timeout=-1)
    return str(await ctx.wait_signal("go"))


def test_a_refused_signal_timeout_does_not_swallow_the_next_signal() -> None:
    engine = TestEngine()
    handle = engine.start(bad_signal_timeout, id="wf-bad-signal-timeout")
    handle.signal("go", "first")
    assert handle.result(timeout=DAY) == "first"


def test_a_timer_survives_a_crash_and_fires_once_at_its_recorded_time() -> None:
    engine = TestEngine()
    handle = engine.start(sleepers, id="wf-sleep-crash")
    engine.sleep(DAY)
    engine.crash()
    engine.crash()
    handle.result()
    history = handle.history()
    first_timer = of_type(history, ev.TimerStarted)[0]
    fired = [f for f in of_type(history, ev.TimerFired) if f.timer_id == first_timer.timer_id]
    assert len(fired) == 1
    assert fired[0].recorded_at == first_timer.fire_at
    assert len(of_type(history, ev.TimerStarted)) == 3


# --- recorded time and randomness -----------------------------------------------------------


@aion.workflow
async def clock_reader(ctx: aion.WorkflowContext) -> list[datetime]:
    seen = [ctx.now()]
    ctx.set_query_handler("seen", lambda: list(seen))
    await ctx.sleep(60)
    seen.append(ctx.now())
    await ctx.run(fails_once, ctx.info.workflow_id)
    seen.append(ctx.now())
    loop_time = asyncio.get_running_loop().time()
    assert loop_time == ctx.now().timestamp()
    await ctx.wait_signal("go")
    seen.append(ctx.now())
    await ctx.wait_signal("done")
    return seen


def test_now_is_the_time_of_the_latest_consumed_event_and_replays_identically() -> None:
    engine = TestEngine()
    handle = engine.start(clock_reader, id="wf-now")
    engine.run_until(lambda: len(handle.query("seen")) == 3)
    engine.clock.advance(500)
    handle.signal("go")
    live = handle.query("seen")
    engine.rebuild_runs()
    assert handle.query("seen") == live
    handle.signal("done")
    result = handle.result()
    assert result == live
    history = handle.history()
    fired = of_type(history, ev.TimerFired)[0]
    completed = of_type(history, ev.ActivityCompleted)[0]
    signal = of_type(history, ev.SignalReceived)[0]
    assert result == [
        history[0].recorded_at,
        fired.recorded_at,
        completed.recorded_at,
        signal.recorded_at,
    ]
    assert result[1] == DEFAULT_START + timedelta(seconds=60)
    assert result[2] == result[1] + timedelta(seconds=45)  # after the retry backoff
    assert result[3] == result[2] + timedelta(seconds=500)


@aion.workflow
async def dice(ctx: aion.WorkflowContext) -> list[Any]:
    values: list[Any] = [ctx.random(), ctx.random(), str(ctx.uuid4())]
    ctx.set_query_handler("values", lambda: list(values))
    await ctx.wait_signal("go")
    values.append(ctx.random())
    return values


def test_random_and_uuid4_replay_identically_and_differ_across_workflows() -> None:
    engine = TestEngine()
    first = engine.start(dice, id="wf-dice-1")
    second = engine.start(dice, id="wf-dice-2")
    before = first.query("values")
    engine.rebuild_runs()
    assert first.query("values") == before
    assert second.query("values") != before
    assert all(0 <= v < 1 for v in before[:2])
    assert before[0] != before[1]
    assert uuid.UUID(before[2]).version == 4
    first.signal("go")
    assert first.result()[:3] == before


# --- asyncio inside workflows ---------------------------------------------------------------


@aion.workflow
async def fast_with_timeout(ctx: aion.WorkflowContext) -> int:
    return await asyncio.wait_for(ctx.run(add, 2, 3), timeout=30)


def test_wait_for_a_fast_activity_cancels_its_durable_timeout() -> None:
    engine = TestEngine()
    handle = engine.start(fast_with_timeout, id="wf-wait-for-fast")
    assert handle.result() == 5
    history = handle.history()
    (timer,) = of_type(history, ev.TimerStarted)
    assert timer.fire_at == timer.recorded_at + timedelta(seconds=30)
    (cancelled,) = of_type(history, ev.TimerCancelled)
    assert cancelled.timer_id == timer.timer_id
    assert of_type(history, ev.TimerFired) == []
    assert engine.clock.now() == DEFAULT_START


@aion.workflow
async def signal_with_timeout(ctx: aion.WorkflowContext) -> str:
    try:
        await asyncio.wait_for(ctx.wait_signal("approve"), timeout=600)
        outcome = "approved"
    except TimeoutError:
        outcome = f"timed out at {ctx.now().isoformat()}"
    await ctx.wait_signal("done")
    return outcome


def test_wait_for_a_signal_times_out_deterministically() -> None:
    engine = TestEngine()
    handle = engine.start(signal_with_timeout, id="wf-wait-for-signal")
    engine.sleep(601)
    engine.rebuild_runs()  # replaying the timeout must not diverge
    assert handle.describe().status == aion.WorkflowStatus.RUNNING
    handle.signal("approve", True)  # too late for the first wait
    handle.signal("done")
    expected = DEFAULT_START + timedelta(seconds=600)
    assert handle.result() == f"timed out at {expected.isoformat()}"
    history = handle.history()
    assert len(of_type(history, ev.TimerFired)) == 1
    assert [e.type for e in history].count("WorkflowFailed") == 0
    replay(history, signal_with_timeout)


@aion.workflow
async def tasks(ctx: aion.WorkflowContext) -> list[Any]:
    task = asyncio.create_task(ctx.run(add, 1, 1))
    nap = asyncio.create_task(ctx.sleep(3600))
    done, pending = await asyncio.wait({task, nap}, return_when=asyncio.FIRST_COMPLETED)
    assert done == {task}
    assert pending == {nap}
    nap.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await nap
    joined = await asyncio.create_task(ctx.run(add, 2, 2))
    return [task.result(), nap.cancelled(), joined]


def test_create_task_wait_first_completed_and_cancelling_a_sleeping_task() -> None:
    engine = TestEngine()
    handle = engine.start(tasks, id="wf-tasks")
    assert handle.result() == [2, True, 4]
    history = handle.history()
    (timer,) = of_type(history, ev.TimerStarted)
    (cancelled,) = of_type(history, ev.TimerCancelled)
    assert cancelled.timer_id == timer.timer_id
    assert of_type(history, ev.TimerFired) == []
    assert engine.clock.now() == DEFAULT_START
    replay(history, tasks)


@aion.workflow
async def uses_executor(ctx: aion.WorkflowContext) -> str:
    try:
        await asyncio.get_running_loop().run_in_executor(None, math.sqrt, 4.0)
    except aion.WorkflowUsageError as exc:
        return str(exc)
    return "ran"


def test_run_in_executor_is_a_usage_error() -> None:
    engine = TestEngine()
    message = engine.start(uses_executor, id="wf-executor").result()
    assert "run_in_executor" in message


def test_timers_start_from_a_custom_clock() -> None:
    start = datetime(2030, 6, 1, 8, 0, tzinfo=DEFAULT_START.tzinfo)
    engine = TestEngine(clock=FakeClock(start))
    handle = engine.start(sleepers, id="wf-custom-clock")
    assert handle.result() == (start + timedelta(days=30, seconds=90, hours=2)).isoformat()


def test_result_timeout_bounds_fake_time() -> None:
    engine = TestEngine()
    handle = engine.start(sleepers, id="wf-bounded")
    with pytest.raises(TimeoutError):
        handle.result(timeout=DAY)
    assert engine.clock.now() == DEFAULT_START + timedelta(days=1)
    assert handle.describe().status == aion.WorkflowStatus.RUNNING
