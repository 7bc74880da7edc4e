"""Logs that carry the workflow, on the TestEngine: ``ctx.logger`` records carry the ids as
record attributes and are not written again when a run is rebuilt from its history;
``aion.activity_logger()`` records carry the attempt."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import pytest

import aion_ray as aion
from aion_ray.engine.outbox import Outbox
from aion_ray.engine.rebuilds import Rebuilds
from aion_ray.testing import TestEngine

tries = {"shaky": 0}


@aion.activity(retry=aion.RetryPolicy(max_attempts=3, initial_interval=1.0))
def shaky(x: int) -> int:
    tries["shaky"] += 1
    aion.activity_logger().info("try %d", tries["shaky"])
    if tries["shaky"] < 2:
        raise RuntimeError("not yet")
    return x * 2


@aion.workflow
async def chatty(ctx: aion.WorkflowContext, n: int) -> int:
    ctx.logger.info("began with %d", n)
    doubled = await ctx.run(shaky, n)
    ctx.logger.info("doubled to %d", doubled)
    await ctx.wait_signal("go")
    ctx.logger.warning("got go")
    await ctx.wait_signal("again")
    ctx.logger.info("done")
    return doubled


def lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == logger]


def messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in lines(caplog, "aion_ray.workflow")]


def test_workflow_lines_carry_the_ids_as_fields(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    engine = TestEngine()
    tries["shaky"] = 0
    handle = engine.start(chatty, 3, id="chat-1")
    handle.signal("go")
    handle.signal("again")
    assert handle.result() == 6
    records = lines(caplog, "aion_ray.workflow")
    assert [r.getMessage() for r in records] == ["began with 3", "doubled to 6", "got go", "done"]
    run_id = handle.history()[0].run_id
    for record in records:
        assert record.workflow_id == "chat-1"  # type: ignore[attr-defined]
        assert record.run_id == run_id  # type: ignore[attr-defined]
        assert record.workflow_type == "chatty"  # type: ignore[attr-defined]
        assert record.pathname == __file__  # the workflow's line, not the logger's
    assert records[2].levelno == logging.WARNING


def test_a_rebuilt_run_does_not_log_its_past_again(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    engine = TestEngine()
    tries["shaky"] = 0
    handle = engine.start(chatty, 3, id="chat-2")
    engine.crash()  # rebuilt from the store: the code replays the start and the activity
    handle.signal("go")
    engine.rebuild_runs()  # replayed again in place, the signal included
    engine.crash()
    handle.signal("again")
    assert handle.result() == 6
    assert messages(caplog) == ["began with 3", "doubled to 6", "got go", "done"]


def test_a_logger_kept_by_the_code_stays_quiet_on_replay(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)

    @aion.workflow
    async def keeps(ctx: aion.WorkflowContext, n: int) -> int:
        log = ctx.logger
        for i in range(n):
            await ctx.wait_signal("tick")
            if log.isEnabledFor(logging.INFO):
                log.info("tick %d", i)
        return n

    engine = TestEngine()
    handle = engine.start(keeps, 2, id="keeps")
    handle.signal("tick")
    engine.crash()
    handle.signal("tick")
    assert handle.result() == 2
    assert messages(caplog) == ["tick 0", "tick 1"]


def test_activity_lines_carry_the_attempt(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    engine = TestEngine()
    tries["shaky"] = 0
    handle = engine.start(chatty, 5, id="chat-3")
    engine.run_until(lambda: tries["shaky"] == 2)  # the retry, a second later
    records = lines(caplog, "aion_ray.activity")
    assert [r.getMessage() for r in records] == ["try 1", "try 2"]
    run_id = handle.history()[0].run_id
    for attempt, record in enumerate(records, start=1):
        assert record.workflow_id == "chat-3"  # type: ignore[attr-defined]
        assert record.run_id == run_id  # type: ignore[attr-defined]
        assert record.activity_id == 1  # type: ignore[attr-defined]
        assert record.activity_type == "shaky"  # type: ignore[attr-defined]
        assert record.attempt == attempt  # type: ignore[attr-defined]


def test_outside_an_attempt_the_activity_logger_is_plain(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    tries["shaky"] = 1
    assert shaky(4) == 8  # an activity called as a plain function
    (record,) = lines(caplog, "aion_ray.activity")
    assert not hasattr(record, "workflow_id")


def test_the_engines_own_lines_about_a_workflow_carry_its_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def unreadable(workflow_ids: Sequence[str]) -> None:
        raise aion.EngineUnavailableError("aion-store", "away", state="unreachable")

    async def rebuild() -> list[str]:
        woken: list[str] = []
        rebuilds = Rebuilds(unreadable, lambda workflow_id: False, woken.extend, (0,))
        rebuilds.run("lost-1")
        while not woken:
            await asyncio.sleep(0)
        return woken

    caplog.set_level(logging.WARNING, logger="aion_ray.engine.rebuilds")
    assert asyncio.run(rebuild()) == ["lost-1"]
    records = lines(caplog, "aion_ray.engine.rebuilds")
    assert [r.levelno for r in records] == [logging.WARNING, logging.ERROR]
    assert all(r.workflow_id == "lost-1" for r in records)  # type: ignore[attr-defined]
    assert all(hasattr(r, "run_id") for r in records)


def test_a_message_not_taken_is_logged_with_the_workflow_it_is_from(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def send_once_refused() -> None:
        tries: list[int] = []

        async def deliver() -> None:
            tries.append(1)
            if len(tries) == 1:
                raise aion.EngineUnavailableError("aion-registry", "away", state="unreachable")

        outbox = Outbox(pauses=(0,))
        taken = asyncio.Event()
        outbox.send("signal s-1", deliver, owner="sender-1")
        outbox.after("sender-1", taken.set)
        await taken.wait()

    caplog.set_level(logging.WARNING, logger="aion_ray.engine.outbox")
    asyncio.run(send_once_refused())
    (record,) = lines(caplog, "aion_ray.engine.outbox")
    assert record.workflow_id == "sender-1"  # type: ignore[attr-defined]
