"""ActorPool: warm WorkflowActors, so a start or a resume never waits for a process to boot.

Each member hosts workflows of one hosting group at a time (``Hosting.slot``: the engine's
default group, or a type with its own ``workflows_per_actor``), up to that group's number.
``acquire`` takes a slot on a running member of the group, or on an empty one (packing members
before opening idle ones), and starts a new actor only when none has room, the ceiling
allows and the backlog would not drain soon through the members it has (``pool_growth``);
the pool keeps ``min_idle`` empty members warm, refilled in the background a moment after
they are taken and not while placements wait (a spawn costs ~1 CPU-second, so at most two
start at once), and ``trim`` stops members idle for a while above that floor, so they never
pile up. A member's death is reported through ``on_death``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ray

from aion_ray.actors.config import HOST_PREFIX, EngineConfig
from aion_ray.actors.pool_growth import RATE_WINDOW, Growth
from aion_ray.actors.pool_waiters import Waiters

log = logging.getLogger(__name__)

Slot = tuple[str, int]
"""A placement's hosting group and how many of its workflows one actor holds."""

REFILL_DELAY = 1.0
"""Seconds between a member being taken and the pool warming a replacement."""
SPAWN_CONCURRENCY = 2
"""Actors started at once: each start is ~1 CPU-second, and a burst must not starve the rest."""


@dataclass
class Member:
    name: str
    handle: Any
    hosted: set[str] = field(default_factory=set)
    reserved: int = 0  # slots promised to placements in progress
    idle_since: float | None = field(default_factory=time.monotonic)
    group: str = ""  # the hosting group of what it holds (any, while empty)

    @property
    def load(self) -> int:
        return len(self.hosted) + self.reserved


class ActorPool:
    """The registry's pool of workflow actors; see the module docstring."""

    def __init__(
        self,
        config: EngineConfig,
        make_actor: Callable[[str], Any],
        on_death: Callable[[Member], None],
        on_pressure: Callable[[int], None] = lambda needed: None,
    ) -> None:
        self.min_idle = config.pool_min
        self.max_actors = config.pool_max
        self._make_actor = make_actor
        self._on_death = on_death
        self._on_pressure = on_pressure  # every member is full and no more may start
        self.members: dict[str, Member] = {}
        self._starting = 0
        self._waiting = Waiters()
        self._growth = Growth()
        self._rechecking = False
        self._refill: asyncio.Task[None] | None = None
        self._watches: dict[str, asyncio.Task[None]] = {}

    async def acquire(self, slot: Slot) -> Member:
        """A member with a free ``slot`` (hosting group, workflows per actor), reserved for
        one placement (``place`` or ``unreserve``). Waiters are served first come, first
        served, as slots free up or members start."""
        member = self._group_room(slot) or self._empty()
        if member is not None and not self._waiting.count:
            return self._reserve(member, slot)
        waiter: asyncio.Future[Member] = asyncio.get_running_loop().create_future()
        self._waiting.add(slot, waiter)
        self._hand_out()
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.unreserve(waiter.result())
            raise

    def _reserve(self, member: Member, slot: Slot) -> Member:
        member.reserved += 1
        member.group = slot[0]
        member.idle_since = None
        self.refill()
        return member

    def _hand_out(self) -> None:
        """Give free slots to waiters: room on a member of their group first, in order, then
        empty members to the longest waiting; start members (bounded) while some still wait."""
        while True:
            for group in self._waiting.groups():
                while (head := self._waiting.head(group)) is not None:
                    member = self._group_room(head[1])
                    if member is None:
                        break
                    _, slot, waiter, _ = self._waiting.pop(group)
                    waiter.set_result(self._reserve(member, slot))
            oldest, empty = self._waiting.oldest_group(), self._empty()
            if oldest is None or empty is None:
                break
            _, slot, waiter, _ = self._waiting.pop(oldest)
            waiter.set_result(self._reserve(empty, slot))  # then its group fills it up
        while self._waiting.actors_needed() > self._starting and self._may_spawn():
            decision = self._growth.spawn_pays_off(
                self._waiting.count, self._waiting.longest_wait()
            )
            if decision is not True:
                # Ask again: once the backlog has waited a moment, or (declined) a rate
                # window later, in case the members stop freeing slots.
                self._recheck(RATE_WINDOW if decision is False else decision)
                break
            self._starting += 1  # counted now, so the loop sees it
            asyncio.get_running_loop().create_task(self._spawn(counted=True))
        if self._waiting.count and len(self.members) + self._starting >= self.max_actors:
            self._on_pressure(self._waiting.count)

    def _recheck(self, delay: float) -> None:
        if not self._rechecking:
            self._rechecking = True
            asyncio.get_running_loop().call_later(delay, self._rechecked)

    def _rechecked(self) -> None:
        self._rechecking = False
        self._hand_out()

    def place(self, member: Member, workflow_id: str) -> None:
        member.reserved -= 1
        member.hosted.add(workflow_id)

    def unreserve(self, member: Member) -> None:
        member.reserved -= 1
        if member.load == 0:
            member.idle_since = time.monotonic()
        self._hand_out()

    def release(self, name: str, workflow_id: str) -> None:
        member = self.members.get(name)
        if member is not None:
            member.hosted.discard(workflow_id)
            if member.load == 0:
                member.idle_since = time.monotonic()
            self._growth.released()
            self._hand_out()

    def trim(self, idle_for: float) -> None:
        """Stop members that have been empty for ``idle_for`` seconds, above the floor."""
        now = time.monotonic()
        idle = sorted(self._idle(), key=lambda m: m.idle_since or now)
        for member in idle[: max(0, len(idle) - self.min_idle)]:
            if member.idle_since is not None and now - member.idle_since >= idle_for:
                self._stop(member.name)

    def refill(self) -> None:
        """Warm members in the background until ``min_idle`` are empty, a moment from now
        (the end of a burst empties members by itself: no actor is started for it)."""
        if self._refill is None or self._refill.done():
            self._refill = asyncio.get_running_loop().create_task(self._fill(REFILL_DELAY))

    async def warm(self) -> None:
        """Fill the floor now (the registry's start-up)."""
        await self._fill()

    def stop_all(self) -> None:
        for name in list(self.members):
            self._stop(name)

    # --- internals -----------------------------------------------------------------------------

    def _group_room(self, slot: Slot) -> Member | None:
        """The fullest member holding workflows of the slot's group that still has room."""
        group, per_actor = slot
        open_members = [
            m for m in self.members.values() if m.group == group and 0 < m.load < per_actor
        ]
        return max(open_members, key=lambda m: m.load, default=None)

    def _empty(self) -> Member | None:
        return next(iter(self._idle()), None)

    def _idle(self) -> list[Member]:
        return [m for m in self.members.values() if m.load == 0]

    def _may_spawn(self) -> bool:
        return (
            self._starting < SPAWN_CONCURRENCY
            and len(self.members) + self._starting < self.max_actors
        )

    async def _fill(self, delay: float = 0.0) -> None:
        await asyncio.sleep(delay)
        while (
            len(self._idle()) + self._starting < self.min_idle
            and self._may_spawn()
            and not self._waiting.count  # waiting placements: the hand-out decides
        ):
            await self._spawn()

    async def _spawn(self, counted: bool = False) -> None:
        name = HOST_PREFIX + uuid.uuid4().hex[:12]
        if not counted:
            self._starting += 1
        handle: Any = None
        try:
            handle = self._make_actor(name)
            await handle.ready.remote()
        except ray.exceptions.RayError:
            log.exception("could not start workflow actor %s", name)
            await asyncio.sleep(0.5)  # a broken cluster must not spin the registry
            handle = None
        finally:
            self._starting -= 1
        if handle is not None:
            self.members[name] = Member(name, handle)
            self._watches[name] = asyncio.get_running_loop().create_task(self._watch(name, handle))
        self._hand_out()

    async def _watch(self, name: str, handle: Any) -> None:
        try:
            await handle.watch.remote()
        except ray.exceptions.RayError:
            member = self.members.pop(name, None)
            self._watches.pop(name, None)
            if member is not None:
                log.warning("workflow actor %s died hosting %s", name, sorted(member.hosted))
                self._on_death(member)
                self.refill()

    def _stop(self, name: str) -> None:
        member = self.members.pop(name, None)
        watch = self._watches.pop(name, None)
        if watch is not None:
            watch.cancel()
        if member is not None:
            ray.kill(member.handle, no_restart=True)
