"""The registry's start-up is not cached when it fails: the next call starts up again (the
registry actor's wiring, over a real Controller with fake hosts, store port and clock)."""

from __future__ import annotations

import asyncio

from aion_ray.actors.config import EngineConfig
from aion_ray.actors.registry import RegistryActor
from aion_ray.control.controller import Controller
from aion_ray.errors import EngineUnavailableError
from aion_ray.model.visibility import WorkflowInfo
from aion_ray.testing.clock import FakeClock
from tests.control.conftest import plane
from tests.control.fakes import FakeFleet, FakeTimers, MemoryStore, settle


class FlakyStore(MemoryStore):
    """Cannot be reached for the first ``failures`` listings of running workflows."""

    failures = 1

    async def running(self) -> list[WorkflowInfo]:
        if self.failures:
            self.failures -= 1
            raise EngineUnavailableError("aion-store", "cannot be reached", state="unreachable")
        return await super().running()


def test_a_failed_start_up_is_tried_again_by_the_next_call() -> None:
    async def scenario() -> None:
        before = await plane()
        await before.start("a")  # then the cluster went away: "a" is open in the store
        clock = FakeClock()
        port, timers = FlakyStore(before.store), FakeTimers(clock)
        port.definitions = before.port.definitions
        control = Controller(
            before.control.settings, port, FakeFleet(before.store, clock), clock, timers
        )
        registry = RegistryActor(EngineConfig(namespace="t", store_path="unused.duckdb"))
        registry._controller = control

        await registry.ready()  # its start-up fails: the store cannot be reached
        for _ in range(20):
            await settle()
        assert control.directory.member_of("a") is None
        assert await registry.where("a") is None  # this call starts up again
        for _ in range(200):
            await settle()
            if control.directory.member_of("a") is not None:
                break
            await timers.advance(0.1)
        assert control.directory.member_of("a") is not None  # recovered

    asyncio.run(scenario())
