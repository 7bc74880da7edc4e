"""Activities across host crashes: completed work never re-runs, interrupted work re-runs."""

from __future__ import annotations

from typing import Any

import aion_ray as aion
from aion_ray.model import events as ev
from aion_ray.testing import TestEngine


@aion.activity
def add(a: int, b: int) -> int:
    return a + b


def plain_double(x: int) -> int:
    return 2 * x


def of_type(events: list[ev.Event], cls: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


@aion.workflow
async def two_steps(ctx: aion.WorkflowContext, n: int) -> int:
    first = await ctx.run(add, n, 1)
    await ctx.wait_signal("go")
    return await ctx.run(plain_double, first)


def test_completed_activities_never_run_again_after_a_crash() -> None:
    engine = TestEngine()
    handle = engine.start(two_steps, 4, id="wf-no-rerun")
    assert engine.activity_calls["add"] == 1
    engine.crash()
    engine.crash()
    handle.signal("go")
    assert handle.result() == 10
    assert engine.activity_calls == {"add": 1, "plain_double": 1}
    assert len(of_type(handle.history(), ev.ActivityScheduled)) == 2


def test_a_crash_during_an_activity_reruns_it_with_a_recorded_interruption() -> None:
    engine = TestEngine()
    runs: list[int] = []

    @aion.activity
    def fragile(x: int) -> int:
        runs.append(x)
        if len(runs) == 1:
            engine.crash()  # the host dies while this attempt runs: its result is lost
        return x * 5

    @aion.workflow
    async def flow(ctx: aion.WorkflowContext, n: int) -> int:
        return await ctx.run(fragile, n)

    handle = engine.start(flow, 3, id="wf-in-flight")
    assert handle.result() == 15
    assert runs == [3, 3]  # at least once: the interrupted attempt ran again
    history = handle.history()
    (failed,) = of_type(history, ev.ActivityFailed)
    assert (failed.attempt, failed.terminal) == (1, False)
    assert failed.error.type == "ActivityInterruptedError"
    assert failed.retry_at is not None
    (completed,) = of_type(history, ev.ActivityCompleted)
    assert completed.attempt == 2
    assert len(of_type(history, ev.ActivityScheduled)) == 1


def test_a_crash_during_retry_backoff_keeps_the_schedule_and_attempt_count() -> None:
    calls: list[int] = []

    @aion.activity(retry=aion.RetryPolicy(max_attempts=3, initial_interval=30.0))
    def wobbly(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            raise TimeoutError("slow backend")
        return x

    @aion.workflow
    async def flow(ctx: aion.WorkflowContext, n: int) -> int:
        return await ctx.run(wobbly, n)

    engine = TestEngine()
    handle = engine.start(flow, 8, id="wf-backoff-crash")
    engine.crash()
    assert calls == [8]  # the retry waits for its time, even after recovery
    assert handle.result() == 8
    history = handle.history()
    (failed,) = of_type(history, ev.ActivityFailed)
    starts = of_type(history, ev.ActivityStarted)
    assert [s.attempt for s in starts] == [1, 2]
    assert starts[1].recorded_at == failed.retry_at
    assert calls == [8, 8]
