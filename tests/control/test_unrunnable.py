"""Recovery over a store where one workflow type's code no longer loads: that type's
workflows are failed with the reason (an event and a lifecycle row), the others recover."""

from __future__ import annotations

import asyncio

import aion_ray as aion
from aion_ray.control.controller import Controller
from aion_ray.control.placement import UNRUNNABLE
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.testing.clock import FakeClock
from tests.control.conftest import plane
from tests.control.fakes import FakeFleet, FakeTimers, MemoryStore, settle


@aion.workflow
async def other(ctx: aion.WorkflowContext, n: int) -> int:
    return int(await ctx.wait_signal("go")) + n


def test_a_type_whose_code_does_not_load_is_failed_and_the_rest_recover() -> None:
    async def scenario() -> None:
        before = await plane(pool_size=(1, 4))
        await before.start("broken-1")
        await before.start("fine", workflow=other)
        clock = FakeClock()  # a new cluster over the same store
        port, timers = MemoryStore(before.store), FakeTimers(clock)
        port.definitions = before.port.definitions
        port.broken["waits"] = ErrorInfo(type="DefinitionUnloadable", message="no module 'gone'")
        fleet = FakeFleet(before.store, clock)
        control = Controller(before.control.settings, port, fleet, clock, timers)

        starting = asyncio.ensure_future(control.start_up())  # recovery waits for hosts
        for _ in range(100):
            await settle()
            if control.directory.member_of("fine") is not None:
                break
            await timers.advance(0.1)

        await starting
        assert control.directory.member_of("fine") is not None  # recovered
        ended = before.store.read_history("broken-1")[-1]
        assert isinstance(ended, ev.WorkflowFailed)
        assert ended.error.type == "DefinitionUnloadable"
        [why] = [e for e in before.store.read_lifecycle("broken-1") if e.kind == UNRUNNABLE]
        assert why.detail["message"] == "no module 'gone'"
        assert "broken-1" not in control.directory.entries

    asyncio.run(scenario())
