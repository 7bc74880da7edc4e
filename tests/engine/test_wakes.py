"""The wakes a driver arms are exactly the store's timer index: timers, retry backoffs and the
deadline. A suspended workflow is woken from the index, so the two must never disagree."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aion_ray as aion
from aion_ray.storage import HistoryStore
from aion_ray.testing import TestEngine

FAILURES: list[int] = []


@aion.activity(retry=aion.RetryPolicy(max_attempts=3, initial_interval=600.0))
def flaky_fetch() -> str:
    FAILURES.append(1)
    if len(FAILURES) == 1:
        raise ConnectionError("the first attempt fails")
    return "fetched"


@aion.workflow(timeout=86400)
async def busy(ctx: aion.WorkflowContext) -> str:
    nap = asyncio.ensure_future(ctx.sleep(3600))
    fetched = await ctx.run(flaky_fetch)
    await nap
    approved = await ctx.wait_signal("approve")
    return f"{fetched} {approved}"


def indexed(engine: TestEngine, store: HistoryStore) -> set[tuple[str, tuple[str, int]]]:
    far = engine.clock.now() + timedelta(days=3650)
    return {(timer.workflow_id, timer.wake) for timer in store.due_timers(far)}


def test_armed_wakes_match_the_timer_index_at_every_stage(store: HistoryStore) -> None:
    FAILURES.clear()
    engine = TestEngine(store=store)
    handle = engine.start(busy, id="wf-wakes")
    expected = {
        ("wf-wakes", ("timer", 1)),
        ("wf-wakes", ("retry", 1)),
        ("wf-wakes", ("deadline", 0)),
    }
    assert engine.armed_wakes() == expected
    assert indexed(engine, store) == expected

    engine.sleep(700)  # the retry falls due and the second attempt succeeds
    expected.discard(("wf-wakes", ("retry", 1)))
    assert engine.armed_wakes() == indexed(engine, store) == expected

    engine.sleep(3600)  # the nap ends; only the deadline is left while it waits for approval
    expected.discard(("wf-wakes", ("timer", 1)))
    assert engine.armed_wakes() == indexed(engine, store) == expected

    handle.signal("approve", True)
    assert handle.result() == "fetched True"
    assert engine.armed_wakes() == indexed(engine, store) == set()


def test_a_recovered_host_re_arms_what_the_index_holds(store: HistoryStore) -> None:
    FAILURES.clear()
    engine = TestEngine(store=store)
    engine.start(busy, id="wf-wakes")
    engine.crash()
    assert engine.armed_wakes() == indexed(engine, store)
    assert ("wf-wakes", ("retry", 1)) in engine.armed_wakes()
