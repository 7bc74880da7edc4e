"""Residency at the control plane: workflows their hosts suspended, waking them when their
timers fall due, and relief: suspending blocked workflows when starts wait for a full pool.

A suspended workflow costs no process: only its history and its next wake time, kept here.
Relief is prompt: while placements wait at the pool's ceiling, a round every RELIEF_PAUSE
asks the hosts which workflows are blocked and suspends the least recently active ones, so a
workflow that becomes blocked (its activity done, now waiting for a signal) gives its slot up
within a round, not after its idle timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from aion_ray.control.directory import Directory
from aion_ray.control.placement import Placement
from aion_ray.control.pool import Member
from aion_ray.control.ports import Timers
from aion_ray.control.wakes import WakeSchedule
from aion_ray.model.clock import Clock
from aion_ray.model.store import LifecycleEntry, SuspendedWorkflow

RELIEF_PAUSE = 0.2
"""Seconds between relief rounds while placements wait at the pool's ceiling."""


class Residency:
    """Suspended workflows, their wakes, and relief; see the module docstring."""

    def __init__(
        self, directory: Directory, placement: Placement, clock: Clock, timers: Timers
    ) -> None:
        self.directory = directory
        self.placement = placement
        self.clock = clock
        self.timers = timers
        self.wakes = WakeSchedule()
        self._armed: datetime | None = None  # the wake time a timer is set for
        self._relieving = False

    def suspended(
        self, host: str, suspensions: Sequence[SuspendedWorkflow]
    ) -> list[LifecycleEntry]:
        """``host`` suspended these workflows; the lifecycle rows to write for them (each
        names ``host``, whatever the host wrote: the sender is who let them go)."""
        logged = []
        for item in suspensions:
            if self.directory.suspend(item.workflow_id, host) is None:
                continue
            self.wake_at(item.workflow_id, item.wake_at)
            logged.append(item._replace(host=host).entry(self.clock.now()))
        return logged

    def wake_at(self, workflow_id: str, at: datetime | None) -> None:
        """Make the suspended workflow resident at ``at`` (None: only an arrival wakes it)."""
        self.wakes.set(workflow_id, at)
        self._arm()

    def _arm(self) -> None:
        at = self.wakes.next_at()
        if at is None or (self._armed is not None and self._armed <= at):
            return
        self._armed = at
        delay = max(0.0, (at - self.clock.now()).total_seconds())
        self.timers.call_later(delay, self._fire)

    def _fire(self) -> None:
        self._armed = None
        for workflow_id in self.wakes.due(self.clock.now()):
            entry = self.directory.entries.get(workflow_id)
            if entry is not None and entry.host is None:
                self.placement.later(workflow_id, entry.workflow_type)
        self._arm()

    # --- relief --------------------------------------------------------------------------------

    def relieve(self, needed: int) -> None:
        """Placements wait at the pool's ceiling: start relief rounds (one at a time)."""
        if not self._relieving:
            self._relieving = True
            self._next_round()

    def _next_round(self) -> None:
        self.directory.pool.background.run(self._rounds())

    async def _rounds(self) -> None:
        """One round now; the next RELIEF_PAUSE later while placements still wait."""
        try:
            await self._round(self.directory.pool.waiting)
        finally:
            if self.directory.pool.waiting:
                self.timers.call_later(RELIEF_PAUSE, self._next_round)
            else:
                self._relieving = False

    async def _round(self, needed: int) -> None:
        """Suspend up to ``needed`` blocked workflows, least recently active first."""
        members = list(self.directory.pool.members.values())
        idle = await asyncio.gather(*(m.host.idle() for m in members), return_exceptions=True)
        chosen = choose_blocked(members, idle, needed)
        for member, workflow_ids in chosen:
            member.host.suspend(workflow_ids)


def choose_blocked(
    members: Sequence[Member], idle: Sequence[dict[str, float] | BaseException], needed: int
) -> list[tuple[Member, list[str]]]:
    """The ``needed`` blocked workflows idle longest, grouped by their member (a member that
    did not answer offers none)."""
    candidates = [
        (seconds, index, workflow_id)
        for index, found in enumerate(idle)
        if isinstance(found, dict)
        for workflow_id, seconds in found.items()
    ]
    candidates.sort(key=lambda c: -c[0])
    chosen: dict[int, list[str]] = {}
    for _, index, workflow_id in candidates[:needed]:
        chosen.setdefault(index, []).append(workflow_id)
    return [(members[index], ids) for index, ids in chosen.items()]
