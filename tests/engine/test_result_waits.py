"""ResultWaits: a host answers result waits for what it runs, and lets them go when it can't."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import pytest

from aion_ray.engine.results import ResultWaits
from aion_ray.engine.transport import Closure
from aion_ray.errors import WorkflowNotFoundError
from aion_ray.model import events as ev
from aion_ray.model.payload import encode

NOW = datetime(2026, 12, 2, tzinfo=UTC)


def completed(workflow_id: str, value: int = 1) -> Closure:
    end = ev.WorkflowCompleted(
        workflow_id=workflow_id, run_id="run-1", seq=3, recorded_at=NOW, result=encode(value)
    )
    return Closure(workflow_id, "run-1", end, None)


def continued(workflow_id: str) -> Closure:
    end = ev.WorkflowContinuedAsNew(
        workflow_id=workflow_id,
        run_id="run-1",
        seq=3,
        recorded_at=NOW,
        workflow_type="t",
        input=encode(2),
        next_run_id="run-2",
    )
    return Closure(workflow_id, "run-1", end, None)


def run(scenario: Callable[[ResultWaits, set[str]], Coroutine[Any, Any, None]]) -> None:
    hosted: set[str] = set()
    asyncio.run(scenario(ResultWaits(lambda wid: wid in hosted), hosted))


def test_a_wait_is_answered_when_the_run_ends_not_at_a_continue_as_new() -> None:
    async def scenario(waits: ResultWaits, hosted: set[str]) -> None:
        hosted.add("wf")
        waiting = asyncio.ensure_future(waits.wait("wf", None))
        await asyncio.sleep(0)
        waits.closed([continued("wf")])
        await asyncio.sleep(0)
        assert not waiting.done()
        waits.closed([completed("wf", 7)])
        end = await waiting
        assert isinstance(end, ev.WorkflowCompleted)
        assert end.result == encode(7)

    run(scenario)


def test_a_recent_end_is_answered_at_once_until_a_new_run_begins() -> None:
    async def scenario(waits: ResultWaits, hosted: set[str]) -> None:
        waits.closed([completed("wf")])  # closed and no longer hosted
        assert isinstance(await waits.wait("wf", 1.0), ev.WorkflowCompleted)
        waits.started("wf")
        with pytest.raises(WorkflowNotFoundError):
            await waits.wait("wf", 1.0)

    run(scenario)


def test_a_workflow_not_here_or_leaving_sends_its_waits_to_the_registry() -> None:
    async def scenario(waits: ResultWaits, hosted: set[str]) -> None:
        with pytest.raises(WorkflowNotFoundError):
            await waits.wait("elsewhere", 1.0)
        hosted.add("wf")
        waiting = asyncio.ensure_future(waits.wait("wf", None))
        await asyncio.sleep(0)
        waits.left("wf")
        with pytest.raises(WorkflowNotFoundError):
            await waiting

    run(scenario)


def test_a_wait_gives_up_at_its_timeout() -> None:
    async def scenario(waits: ResultWaits, hosted: set[str]) -> None:
        hosted.add("wf")
        assert await waits.wait("wf", 0.01) is None

    run(scenario)
