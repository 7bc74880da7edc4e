"""Where each open workflow lives: on a pool member (resident) or nowhere (suspended).

The directory also serialises placements: while a workflow is being placed or resumed, others
who need it wait (``settled``), so each id is placed once at a time.
"""

from __future__ import annotations

import asyncio
import collections
from dataclasses import dataclass

from aion_ray.control.pool import Member, Pool

ENDED_KEPT = 10_000
"""Closed runs remembered, newest first kept: enough to outlast any report in flight."""


@dataclass
class Entry:
    """An open workflow the controller knows (closed ones leave; the store keeps the truth)."""

    workflow_id: str
    run_id: str
    workflow_type: str
    host: str | None  # None: suspended


class Directory:
    """Open workflows by id, and the placements in progress."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.entries: dict[str, Entry] = {}
        self._placing: dict[str, asyncio.Future[None]] = {}
        self._ended: collections.OrderedDict[tuple[str, str], None] = collections.OrderedDict()

    def member_of(self, workflow_id: str) -> Member | None:
        """The member hosting the workflow (None: suspended or unknown)."""
        entry = self.entries.get(workflow_id)
        if entry is None or entry.host is None:
            return None
        return self.pool.members.get(entry.host)

    def residency(self, workflow_id: str) -> str:
        return "resident" if self.member_of(workflow_id) is not None else "suspended"

    async def settled(self, workflow_id: str) -> None:
        """Wait while the workflow is being placed or resumed."""
        while (placing := self._placing.get(workflow_id)) is not None:
            await asyncio.shield(placing)

    def placing(self, workflow_id: str) -> asyncio.Future[None]:
        """Mark a placement in progress (call with no await since ``settled``); ``placed``
        ends it."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._placing[workflow_id] = done
        return done

    def placed(self, workflow_id: str, done: asyncio.Future[None]) -> None:
        if self._placing.get(workflow_id) is done:
            del self._placing[workflow_id]
        done.set_result(None)

    def host(self, workflow_id: str, run_id: str, workflow_type: str, member: Member) -> None:
        """Record the workflow as hosted by ``member`` (its slot taken)."""
        self.pool.place(member, workflow_id)
        self.entries[workflow_id] = Entry(workflow_id, run_id, workflow_type, member.name)

    def unhost(self, workflow_id: str, member: Member, keep: bool = False) -> None:
        """A placement on ``member`` did not happen: free the slot and forget the workflow
        (``keep``: it stays known, suspended, as it was before a resume)."""
        entry = self.entries.get(workflow_id)
        if entry is not None and entry.host == member.name:
            if keep:
                entry.host = None
            else:
                del self.entries[workflow_id]
        self.pool.release(member.name, workflow_id)

    def suspend(self, workflow_id: str, host: str) -> Entry | None:
        """The workflow left ``host`` for its history; None if it was not there."""
        entry = self.entries.get(workflow_id)
        if entry is None or entry.host != host:
            return None
        entry.host = None
        self.pool.release(host, workflow_id)
        return entry

    def close(self, workflow_id: str, host: str) -> None:
        """The workflow's run ended (on ``host``, or "" if no host held it)."""
        entry = self.entries.pop(workflow_id, None)
        if entry is not None:
            self._ended[(workflow_id, entry.run_id)] = None
            while len(self._ended) > ENDED_KEPT:
                self._ended.popitem(last=False)
        self.pool.release(host, workflow_id)

    def ended(self, workflow_id: str, run_id: str) -> bool:
        """Whether this run closed lately (a host's older report of it must not bring it
        back)."""
        return (workflow_id, run_id) in self._ended
