"""Heartbeats on the in-process engine: recorded with their details, throttled, harmless
outside an activity."""

from __future__ import annotations

import aion_ray as aion
from aion_ray.model import events as ev
from aion_ray.testing import TestEngine


@aion.activity
def chatty(n: int) -> int:
    for i in range(n):
        aion.heartbeat({"done": i})
    return n


@aion.workflow
async def chatter(ctx: aion.WorkflowContext, n: int) -> int:
    return await ctx.run(chatty, n)


def test_heartbeats_are_recorded_and_throttled() -> None:
    engine = TestEngine()
    handle = engine.start(chatter, 5)
    assert handle.result() == 5
    beats = [e for e in handle.history() if isinstance(e, ev.ActivityHeartbeat)]
    assert len(beats) == 1  # five calls within one interval: the first is sent
    assert beats[0].details is not None
    assert beats[0].details.value == {"done": 0}


def test_a_heartbeat_outside_an_activity_does_nothing() -> None:
    aion.heartbeat("nobody listens")
    assert chatty(2) == 2
