"""Activities: payload decoding, options, retries, fan-out and at-least-once across crashes."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel

import aion_ray as aion
from aion_ray.model import events as ev
from aion_ray.testing import TestEngine

pytestmark = pytest.mark.usefixtures("on_both_stores")


class Config(BaseModel):
    name: str
    lr: float


class Metrics(BaseModel):
    name: str
    loss: float


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int


@aion.activity
def train(cfg: Config) -> Metrics:
    assert isinstance(cfg, Config)  # the argument decoded to the parameter's annotation
    return Metrics(name=cfg.name, loss=cfg.lr * 10)


@aion.activity
def shift(p: Point, dx: int) -> Point:
    assert isinstance(p, Point)
    return Point(p.x + dx, p.y)


@aion.activity
def add(a: int, b: int) -> int:
    return a + b


@aion.activity
def fail_always(message: str) -> int:
    raise RuntimeError(message)


def plain_double(x: int) -> int:
    return 2 * x


async def async_triple(x: int) -> int:
    await asyncio.sleep(0)
    return 3 * x


def kinds(events: list[ev.Event]) -> list[str]:
    return [e.type for e in events]


def of_type(events: list[ev.Event], cls: type[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


# --- payload decoding ----------------------------------------------------------------------


@aion.workflow
async def model_flow(ctx: aion.WorkflowContext, cfg: Config) -> str:
    metrics = await ctx.run(train, cfg)
    point = await ctx.run(shift, Point(1, 2), 5)
    return f"{type(metrics).__name__}:{metrics.loss}:{type(point).__name__}:{point.x}"


def test_a_decorated_activity_stays_callable_as_a_plain_function() -> None:
    assert add(2, 3) == 5
    assert shift(Point(1, 1), dx=2) == Point(3, 1)
    assert train(Config(name="a", lr=0.5)) == Metrics(name="a", loss=5.0)
    with pytest.raises(RuntimeError, match="plain call"):
        fail_always("plain call")


def test_results_and_arguments_decode_to_annotations() -> None:
    engine = TestEngine()
    handle = engine.start(model_flow, Config(name="m", lr=0.5), id="wf-models")
    assert handle.result() == "Metrics:5.0:Point:6"


@aion.workflow
async def plain_and_async(ctx: aion.WorkflowContext, n: int) -> list[int]:
    doubled = await ctx.run(plain_double, n)
    tripled: int = await ctx.run(async_triple, n)  # an async activity's result, unwrapped
    return [doubled, tripled]


def test_plain_functions_and_async_defs_work_as_activities() -> None:
    engine = TestEngine()
    handle = engine.start(plain_and_async, 7, id="wf-plain")
    assert handle.result() == [14, 21]
    scheduled = of_type(handle.history(), ev.ActivityScheduled)
    assert [s.activity_type for s in scheduled] == ["plain_double", "async_triple"]
    assert engine.activity_calls == {"plain_double": 1, "async_triple": 1}


# --- options --------------------------------------------------------------------------------


@aion.workflow
async def override_retry(ctx: aion.WorkflowContext) -> str:
    policy = aion.RetryPolicy(max_attempts=2, initial_interval=7.0)
    try:
        await ctx.run(fail_always, "nope", retry=policy)
    except aion.ActivityError as exc:
        return f"attempts={exc.attempt}"
    return "unreachable"


def test_call_options_override_the_decorators() -> None:
    engine = TestEngine()
    handle = engine.start(override_retry, id="wf-override")
    assert handle.result() == "attempts=2"  # the decorator's default allows 3
    failed = of_type(handle.history(), ev.ActivityFailed)
    assert [f.terminal for f in failed] == [False, True]
    assert failed[0].retry_at - failed[0].recorded_at == timedelta(seconds=7)


@aion.workflow
async def unknown_option(ctx: aion.WorkflowContext) -> int:
    return await ctx.run(add, 1, 2, retries=5)


def test_unknown_option_fails_the_run_naming_it() -> None:
    engine = TestEngine()
    handle = engine.start(unknown_option, id="wf-unknown-option")
    with pytest.raises(aion.WorkflowFailedError) as info:
        handle.result()
    assert info.value.cause.type == "InvalidInputError"
    assert "retries" in info.value.cause.message
    assert of_type(handle.history(), ev.ActivityScheduled) == []


@aion.workflow
async def caught_bad_calls(ctx: aion.WorkflowContext) -> list[str]:
    seen: list[str] = []
    calls: list[Callable[[], Awaitable[int]]] = [
        lambda: ctx.run(add, 1),  # too few arguments
        lambda: ctx.run(add, 1, 2, 3),  # too many
        lambda: ctx.run(add, 1, 2, num_cpus=-1),  # a known option with a bad value
    ]
    for call in calls:
        try:
            await call()
        except aion.InvalidInputError as exc:
            seen.append(type(exc).__name__)
    return seen


def test_wrong_arguments_raise_invalid_input_in_the_workflow_and_record_nothing() -> None:
    engine = TestEngine()
    handle = engine.start(caught_bad_calls, id="wf-bad-args")
    assert handle.result() == ["InvalidInputError"] * 3
    assert kinds(handle.history()) == ["WorkflowStarted", "WorkflowCompleted"]
    assert engine.activity_calls["add"] == 0


# --- retries --------------------------------------------------------------------------------

POLICY = aion.RetryPolicy(max_attempts=5, initial_interval=2.0, backoff=3.0, max_interval=10.0)


def test_flaky_activity_retries_with_backoff_until_it_succeeds() -> None:
    calls: list[int] = []

    @aion.activity(retry=POLICY)
    def flaky(x: int) -> int:
        calls.append(x)
        if len(calls) < 4:
            raise ConnectionError(f"attempt {len(calls)} down")
        return x + 100

    @aion.workflow
    async def flow(ctx: aion.WorkflowContext, n: int) -> int:
        return await ctx.run(flaky, n)

    engine = TestEngine()
    handle = engine.start(flow, 1, id="wf-flaky")
    assert handle.result() == 101
    history = handle.history()
    failed = of_type(history, ev.ActivityFailed)
    assert [(f.attempt, f.terminal) for f in failed] == [(1, False), (2, False), (3, False)]
    for f in failed:
        assert f.error.type == "ConnectionError"
        assert f.error.message == f"attempt {f.attempt} down"
        assert f.retry_at is not None
        assert f.retry_at - f.recorded_at == timedelta(seconds=POLICY.delay_after(f.attempt))
    assert [POLICY.delay_after(k) for k in (1, 2, 3)] == [2.0, 6.0, 10.0]  # capped
    starts = of_type(history, ev.ActivityStarted)
    assert [s.attempt for s in starts] == [1, 2, 3, 4]
    for f, nxt in zip(failed, starts[1:], strict=True):
        assert nxt.recorded_at == f.retry_at  # the next attempt starts when it was due
    (completed,) = of_type(history, ev.ActivityCompleted)
    assert completed.attempt == 4
    assert engine.activity_calls["flaky"] == 4


@aion.activity(retry=aion.RetryPolicy(max_attempts=3, initial_interval=1.0))
def always_down(x: int) -> int:
    raise ConnectionError(f"down for {x}")


@aion.workflow
async def uncaught(ctx: aion.WorkflowContext) -> int:
    return await ctx.run(always_down, 9)


def test_exhausted_retries_fail_the_run_with_an_activity_error() -> None:
    engine = TestEngine()
    handle = engine.start(uncaught, id="wf-exhausted")
    with pytest.raises(aion.WorkflowFailedError) as info:
        handle.result()
    assert info.value.cause.type == "ActivityError"
    assert "always_down" in info.value.cause.message
    assert info.value.cause.cause is not None
    assert info.value.cause.cause.type == "ConnectionError"
    failed = of_type(handle.history(), ev.ActivityFailed)
    assert [(f.attempt, f.terminal) for f in failed] == [(1, False), (2, False), (3, True)]
    assert failed[-1].retry_at is None
    assert kinds(handle.history())[-1] == "WorkflowFailed"
    assert engine.activity_calls["always_down"] == 3


@aion.workflow
async def catches(ctx: aion.WorkflowContext) -> dict[str, Any]:
    try:
        await ctx.run(always_down, 4)
    except aion.ActivityError as exc:
        after = await ctx.run(add, 1, 1)
        return {
            "type": exc.activity_type,
            "attempt": exc.attempt,
            "cause": exc.cause.type,
            "message": exc.cause.message,
            "after": after,
        }
    return {}


def test_workflow_can_catch_activity_error_and_continue() -> None:
    engine = TestEngine()
    handle = engine.start(catches, id="wf-catch")
    assert handle.result() == {
        "type": "always_down",
        "attempt": 3,
        "cause": "ConnectionError",
        "message": "down for 4",
        "after": 2,
    }
    assert kinds(handle.history())[-1] == "WorkflowCompleted"


@aion.activity(retry=aion.RetryPolicy(max_attempts=5, non_retryable=("KeyError",)))
def missing_key(key: str) -> int:
    raise KeyError(key)


@aion.workflow
async def non_retryable(ctx: aion.WorkflowContext) -> int:
    return await ctx.run(missing_key, "k")


def test_non_retryable_error_types_fail_at_once() -> None:
    engine = TestEngine()
    handle = engine.start(non_retryable, id="wf-non-retryable")
    with pytest.raises(aion.WorkflowFailedError):
        handle.result()
    failed = of_type(handle.history(), ev.ActivityFailed)
    assert [(f.attempt, f.terminal, f.error.type) for f in failed] == [(1, True, "KeyError")]
    assert engine.activity_calls["missing_key"] == 1


# --- concurrency ----------------------------------------------------------------------------


@aion.workflow
async def fan_out(ctx: aion.WorkflowContext, n: int) -> list[int]:
    return list(await asyncio.gather(*(ctx.run(add, i, 100) for i in range(n))))


def test_gather_returns_results_in_argument_order_and_schedules_all_first() -> None:
    engine = TestEngine()
    handle = engine.start(fan_out, 4, id="wf-gather")
    assert handle.result() == [100, 101, 102, 103]
    history = handle.history()
    scheduled = of_type(history, ev.ActivityScheduled)
    completed = of_type(history, ev.ActivityCompleted)
    assert [s.activity_id for s in scheduled] == [1, 2, 3, 4]
    assert [s.input.value for s in scheduled] == [[0, 100], [1, 100], [2, 100], [3, 100]]
    assert max(s.seq for s in scheduled) < min(c.seq for c in completed)
