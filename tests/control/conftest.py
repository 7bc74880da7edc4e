"""A control plane over fake hosts, the in-memory store and a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aion_ray as aion
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.control.controller import Controller, Settings
from aion_ray.engine.starts import StartSpec, encode_input
from aion_ray.errors import AionError
from aion_ray.storage.memory import InMemoryHistoryStore
from aion_ray.testing.clock import FakeClock
from tests.control.fakes import FakeFleet, FakeHost, FakeTimers, MemoryStore, settle


@aion.workflow
async def waits(ctx: aion.WorkflowContext, n: int) -> int:
    return int(await ctx.wait_signal("go")) + n


@dataclass
class Plane:
    control: Controller
    store: InMemoryHistoryStore
    port: MemoryStore
    fleet: FakeFleet
    clock: FakeClock
    timers: FakeTimers

    async def until(self, done: Callable[[], bool]) -> None:
        """Move fake time on, a tenth of a second at a time, until ``done()``."""
        for _ in range(200):
            await settle()
            if done():
                return
            await self.timers.advance(0.1)
        raise AssertionError("not done within 20 s of fake time")

    def resident(self, workflow_id: str) -> bool:
        return self.control.directory.residency(workflow_id) == "resident"

    def host_of(self, workflow_id: str) -> FakeHost:
        member = self.control.directory.member_of(workflow_id)
        assert member is not None, f"{workflow_id} is not resident"
        return self.fleet.hosts[member.name]

    def placing(self, workflow_id: str) -> asyncio.Future[list[str | AionError]]:
        """A start handed to the control plane, fake time left where it is."""
        spec = StartSpec(workflow_id, waits, encode_input(waits, 1, 1 << 20))
        return asyncio.ensure_future(self.control.start([spec]))

    async def start(
        self, workflow_id: str, n: int = 1, workflow: WorkflowDefinition[Any] = waits
    ) -> str:
        """Start a workflow (``waits`` by default), moving fake time on while it waits for
        a host (the pool grows only after a placement has waited a moment)."""
        spec = StartSpec(workflow_id, workflow, encode_input(workflow, n, 1 << 20))
        starting = asyncio.ensure_future(self.control.start([spec]))
        for _ in range(100):
            await settle()
            if starting.done():
                break
            await self.timers.advance(0.1)
        [reply] = await starting
        if isinstance(reply, AionError):
            raise reply
        return reply


async def restarted(p: Plane) -> Plane:
    """A new control plane over ``p``'s store, catalogue and live hosts (the registry
    restarted: its memory is gone, its hosts are not)."""
    control = Controller(p.control.settings, p.port, p.fleet, p.clock, p.timers)
    await control.start_up()
    await settle()
    return Plane(control, p.store, p.port, p.fleet, p.clock, p.timers)


async def plane(
    pool_size: tuple[int, int] = (1, 4),
    over: Plane | None = None,
    parked: dict[str, datetime | None] | None = None,
    **settings: object,
) -> Plane:
    """A started control plane (its pool warmed); ``over`` another one's store and
    catalogue (as a new cluster over an old store file), with ``parked`` suspended there."""
    clock = FakeClock()
    store = over.store if over is not None else InMemoryHistoryStore()
    port, fleet, timers = MemoryStore(store), FakeFleet(store, clock), FakeTimers(clock)
    if over is not None:
        port.definitions = over.port.definitions
    port.parked = parked or {}
    made = Settings(pool_size=pool_size, **settings)  # type: ignore[arg-type]
    control = Controller(made, port, fleet, clock, timers)
    await control.start_up()
    await settle()
    return Plane(control, store, port, fleet, clock, timers)
