"""aion.wait: results and errors per handle, in order, with a progress bar when asked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import aion_ray as aion
from aion_ray.display.progress import Progress
from aion_ray.testing import TestEngine
from tests.display.workflows import EVIL, pipeline


@aion.activity(retry=aion.RetryPolicy(max_attempts=1))
def explode(text: str) -> str:
    raise ValueError(text)


@aion.workflow
async def doomed(ctx: aion.WorkflowContext, text: str) -> str:
    return await ctx.run(explode, text)


def test_wait_returns_results_and_errors_per_handle(capsys: pytest.CaptureFixture[str]) -> None:
    engine = TestEngine()
    handles = [engine.start(pipeline, f"w{i}", id=f"w{i}") for i in range(2)]
    handles.insert(1, engine.start(doomed, EVIL, id="doomed"))
    for handle in (handles[0], handles[2]):
        engine.sleep(61)
        handle.signal("approve", True)
    outcomes = aion.wait(handles, progress=True)
    assert outcomes[0] == "w0:True:w0-child"
    assert isinstance(outcomes[1], aion.WorkflowFailedError)
    assert outcomes[2] == "w1:True:w1-child"
    bar = capsys.readouterr().err
    assert "3/3" in bar
    assert "completed=2 failed=1 running=0" in bar


def test_a_timeout_leaves_the_workflow_counted_as_running() -> None:
    engine = TestEngine()
    handle = engine.start(pipeline, "slow", id="slow")
    [outcome] = aion.wait([handle], timeout=5)  # fake time: it waits for a signal forever
    assert isinstance(outcome, TimeoutError)
    counter = Progress(1, show=False)
    counter.count(outcome)
    assert counter.summary() == "completed=0 failed=0 running=1"


class Settles:
    """A handle whose result comes after ``delay`` seconds (the async wait's typed seam)."""

    def __init__(self, workflow_id: str, delay: float, outcome: Any) -> None:
        self.workflow_id = workflow_id
        self.delay = delay
        self.outcome = outcome

    async def result_async(self, timeout: float | None = None) -> Any:
        await asyncio.sleep(self.delay)
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


def test_wait_async_waits_concurrently_and_keeps_the_order() -> None:
    failure = aion.WorkflowNotFoundError("b")
    handles = [Settles("a", 0.2, 1), Settles("b", 0.0, failure), Settles("c", 0.1, 3)]
    outcomes = asyncio.run(aion.wait_async(handles, progress=False))
    assert outcomes == [1, failure, 3]


def test_bad_timeouts_are_refused() -> None:
    with pytest.raises(aion.InvalidInputError, match="timeout"):
        aion.wait([], timeout=-1)
