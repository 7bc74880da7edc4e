"""Pool: the hosts' slots, so a start or a resume never waits for a process to boot.

Each member hosts workflows of one hosting group at a time (``Hosting.slot``: the engine's
default group, or a type with its own ``workflows_per_actor``), up to that group's number.
``acquire`` takes a slot on a running member of the group, or on an empty one (packing members
before opening idle ones), and starts a new host only when none has room, the ceiling allows
and the backlog would not drain soon through the members it has (``growth``); the pool keeps
``min_idle`` empty members warm, refilled a moment after they are taken and not while
placements wait (a spawn costs ~1 CPU-second, so at most two start at once), and ``trim``
stops members idle for a while above that floor. While placements wait and the pool is at its
ceiling, ``on_pressure`` is told how many (the controller suspends blocked workflows).
A member's death reaches the pool through ``died``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from aion_ray.control.growth import RATE_WINDOW, Growth
from aion_ray.control.ports import Fleet, Host, Timers
from aion_ray.control.tasks import Background
from aion_ray.control.waiters import Waiters
from aion_ray.model.clock import Clock

log = logging.getLogger(__name__)

Slot = tuple[str, int]
"""A placement's hosting group and how many of its workflows one host holds."""

REFILL_DELAY = 1.0
"""Seconds between a member being taken and the pool warming a replacement."""
SPAWN_CONCURRENCY = 2
"""Hosts started at once: each start is ~1 CPU-second, and a burst must not starve the rest."""
SPAWN_FAILURE_PAUSE = 0.5
"""Seconds a failed spawn holds its place: a broken cluster must not spin the controller."""


@dataclass
class Member:
    name: str
    host: Host
    hosted: set[str] = field(default_factory=set)
    reserved: int = 0  # slots promised to placements in progress
    idle_since: float | None = None
    group: str = ""  # the hosting group of what it holds (any, while empty)
    capacity: int = 0  # how many of its group's workflows it holds at most

    @property
    def load(self) -> int:
        return len(self.hosted) + self.reserved


class Pool:
    """The controller's hosts and their slots; see the module docstring."""

    def __init__(
        self,
        sizes: tuple[int, int],
        fleet: Fleet,
        clock: Clock,
        timers: Timers,
        on_death: Callable[[Member], None],
        on_pressure: Callable[[int], None] = lambda needed: None,
        name_prefix: str = "aion-host-",
    ) -> None:
        self.min_idle, self.max_hosts = sizes
        self._fleet = fleet
        self._clock = clock
        self._timers = timers
        self._on_death = on_death
        self._on_pressure = on_pressure
        self._prefix = name_prefix
        self.members: dict[str, Member] = {}
        self._starting = 0
        self._waiting = Waiters(clock)
        self._growth = Growth(clock)
        self._rechecking = False
        self._refilling = False
        self.on_change: Callable[[], None] = lambda: None  # slots or members changed
        self.background = Background()  # the control plane's tasks, held and watched
        self.closed = False
        self.deaths = 0  # hosts seen to die

    @property
    def starting(self) -> int:
        """Hosts being started."""
        return self._starting

    @property
    def waiting(self) -> int:
        """Placements waiting for a slot."""
        return self._waiting.count

    async def acquire(self, slot: Slot) -> Member:
        """A member with a free ``slot`` (hosting group, workflows per host), reserved for
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

    def place(self, member: Member, workflow_id: str) -> None:
        member.reserved -= 1
        member.hosted.add(workflow_id)
        self.on_change()

    def hosted(self, name: str, workflow_id: str, slot: Slot) -> Member | None:
        """A host reports holding a workflow the pool did not place there (a client started
        it directly): count it against the host's slots."""
        member = self.members.get(name)
        if member is not None and workflow_id not in member.hosted:
            member.hosted.add(workflow_id)
            member.group, member.capacity = slot
            member.idle_since = None
            self.on_change()
        return member

    def unreserve(self, member: Member) -> None:
        member.reserved -= 1
        self._emptied(member)
        self._hand_out()

    def release(self, name: str, workflow_id: str) -> None:
        member = self.members.get(name)
        if member is not None and workflow_id in member.hosted:
            member.hosted.discard(workflow_id)
            self._emptied(member)
            self._growth.released()
            self._hand_out()

    def died(self, name: str) -> None:
        """The host ``name`` is gone: its workflows go to ``on_death``, a new one warms."""
        member = self.members.pop(name, None)
        if member is not None:
            self.deaths += 1
            log.warning("host %s died hosting %s", name, sorted(member.hosted))
            self._on_death(member)
            self.refill()
            self._hand_out()

    def trim(self, idle_for: float) -> None:
        """Stop members that have been empty for ``idle_for`` seconds, above the floor."""
        now = self._now()
        idle = sorted(self._idle(), key=lambda m: m.idle_since or now)
        for member in idle[: max(0, len(idle) - self.min_idle)]:
            if member.idle_since is not None and now - member.idle_since >= idle_for:
                self.stop(member.name)

    def refill(self) -> None:
        """Warm members until ``min_idle`` are empty, a moment from now (the end of a burst
        empties members by itself: no host is started for it)."""
        if not self._refilling:
            self._refilling = True
            self._timers.call_later(REFILL_DELAY, self._refill_now)

    def join(self, name: str, host: Host) -> None:
        """A live host that an earlier control plane started (found after a restart)."""
        self.members.setdefault(name, Member(name, host, idle_since=self._now()))
        self.on_change()

    async def warm(self) -> None:
        """Fill the floor now (the controller's start-up)."""
        await self._fill()

    def stop(self, name: str) -> None:
        member = self.members.pop(name, None)
        if member is not None:
            member.host.stop()
            self.on_change()

    def close(self) -> None:
        """Stop every host, and any that finishes starting from now on."""
        self.closed = True
        for name in list(self.members):
            self.stop(name)

    # --- internals -----------------------------------------------------------------------------

    def _reserve(self, member: Member, slot: Slot) -> Member:
        member.reserved += 1
        member.group, member.capacity = slot
        member.idle_since = None
        self.refill()
        return member

    def _emptied(self, member: Member) -> None:
        if member.load == 0:
            member.idle_since = self._now()

    def _hand_out(self) -> None:
        """Give free slots to waiters: room on a member of their group first, in order, then
        empty members to the longest waiting; start members (bounded) while some still wait."""
        while True:
            self._fill_groups()
            oldest, empty = self._waiting.oldest_group(), self._empty()
            if oldest is None or empty is None:
                break
            _, slot, waiter, _ = self._waiting.pop(oldest)
            waiter.set_result(self._reserve(empty, slot))  # then its group fills it up
        self._grow()
        if self._waiting.count and len(self.members) + self._starting >= self.max_hosts:
            self._on_pressure(self._waiting.count)
        self.on_change()

    def _fill_groups(self) -> None:
        for group in self._waiting.groups():
            while (head := self._waiting.head(group)) is not None:
                member = self._group_room(head[1])
                if member is None:
                    break
                _, slot, waiter, _ = self._waiting.pop(group)
                waiter.set_result(self._reserve(member, slot))

    def _grow(self) -> None:
        while self._waiting.actors_needed() > self._starting and self._may_spawn():
            decision = self._growth.spawn_pays_off(
                self._waiting.count, self._waiting.longest_wait()
            )
            if decision is not True:
                # Ask again: once the backlog has waited a moment, or (declined) a rate
                # window later, in case the members stop freeing slots.
                self._recheck(RATE_WINDOW if decision is False else decision)
                return
            self._starting += 1  # counted now, so the loop sees it
            self.background.run(self._spawn(counted=True))

    def _recheck(self, delay: float) -> None:
        if not self._rechecking:
            self._rechecking = True
            self._timers.call_later(delay, self._rechecked)

    def _rechecked(self) -> None:
        self._rechecking = False
        self._hand_out()

    def _refill_now(self) -> None:
        self._refilling = False
        self.background.run(self._fill())

    def _group_room(self, slot: Slot) -> Member | None:
        """The fullest member holding workflows of the slot's group that still has room."""
        group, per_host = slot
        open_members = [
            m for m in self.members.values() if m.group == group and 0 < m.load < per_host
        ]
        return max(open_members, key=lambda m: m.load, default=None)

    def _empty(self) -> Member | None:
        return next(iter(self._idle()), None)

    def _idle(self) -> list[Member]:
        return [m for m in self.members.values() if m.load == 0]

    def _may_spawn(self) -> bool:
        return (
            self._starting < SPAWN_CONCURRENCY
            and len(self.members) + self._starting < self.max_hosts
        )

    async def _fill(self) -> None:
        while (
            len(self._idle()) + self._starting < self.min_idle
            and self._may_spawn()
            and not self._waiting.count  # waiting placements: the hand-out decides
        ):
            await self._spawn()

    async def _spawn(self, counted: bool = False) -> None:
        name = self._prefix + uuid.uuid4().hex[:12]
        if not counted:
            self._starting += 1
        host: Host | None = None
        try:
            host = await self._fleet.spawn(name)
        except Exception:
            log.exception("could not start host %s", name)
            await asyncio.sleep(SPAWN_FAILURE_PAUSE)
        finally:
            self._starting -= 1
        if host is not None and self.closed:
            host.stop()  # the pool closed while it started
        elif host is not None:
            self.members[name] = Member(name, host, idle_since=self._now())
        self._hand_out()

    def _now(self) -> float:
        return self._clock.now().timestamp()
