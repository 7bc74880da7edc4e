"""Reconciling the control plane with the world: at start-up (the registry started, or Ray
re-created it) and after a host dies.

At start-up it re-attaches to the hosts an earlier control plane left running (they keep
their workflows: it learns what each holds and starts no second pool beside them), then
warms the pool and, meanwhile, recovers the store's open workflows that no live host holds
(see ``recovery``: the suspended stay suspended, the rest are resumed, paced). A host that
dies may have held workflows whose placement reports never came: a recheck asks the live
hosts what they hold, then recovers what nobody holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from aion_ray.control import recovery
from aion_ray.control.directory import Directory, Entry
from aion_ray.control.placement import Placement
from aion_ray.control.pool import Pool
from aion_ray.control.ports import Fleet, HostDied, HostUnreachable, Store
from aion_ray.control.residency import Residency
from aion_ray.engine.transport import Placed

log = logging.getLogger(__name__)

Learn = Callable[[str, Sequence[Placed]], None]
"""Count what host ``name`` says it holds (the controller's ``placed``)."""


class Reconciler:
    """See the module docstring."""

    def __init__(
        self,
        fleet: Fleet,
        store: Store,
        pool: Pool,
        directory: Directory,
        placement: Placement,
        residency: Residency,
        learn: Learn,
    ) -> None:
        self.fleet = fleet
        self.store = store
        self.pool = pool
        self.directory = directory
        self.placement = placement
        self.residency = residency
        self._learn = learn
        self.attached = asyncio.Event()  # set once it knows what the live hosts hold
        self._rechecking = self._recheck_again = False

    async def start_up(self) -> None:
        """Re-attach, then warm and recover. ``attached`` is set only once every live host
        has said what it holds (answers before that could fence them); a failure raises,
        and the caller starts up again (each step is idempotent)."""
        await self._reattach()
        self.attached.set()
        await asyncio.gather(self.pool.warm(), self._recover())

    def recheck(self) -> None:
        """After a host death: one recheck at a time; deaths meanwhile ask for one more."""
        if self._rechecking:
            self._recheck_again = True
            return
        self._rechecking = True
        self.pool.background.run(self._rechecked())

    async def _reattach(self) -> None:
        """Join each live host and learn what it holds, as it reports it."""
        for host in await self.fleet.running():
            try:
                placements = await host.placements()
            except (HostDied, HostUnreachable):
                # Left for dead: what it held is recovered elsewhere, fencing it.
                log.warning("host %s did not answer; not re-attached", host.name)
                continue
            self.pool.join(host.name, host)
            self._learn(host.name, placements)
        if self.pool.members:
            log.info("re-attached to %d live host(s)", len(self.pool.members))

    async def _recover(self) -> None:
        """Leave the workflows suspended that were suspended with nothing since (their wakes
        armed); resume the rest that this control plane does not know, paced. A known one (a
        start or an arrival came first, or its host died and it backs off) is left to its
        own path."""
        running = await self.store.running()
        if not running:
            return
        await self.placement.code.load(info.workflow_type for info in running)
        made = recovery.plan(running, await self.store.suspended())
        for info, wake_at in made.suspended:
            if info.workflow_id not in self.directory.entries:
                entry = Entry(info.workflow_id, info.run_id, info.workflow_type, None)
                self.directory.entries[info.workflow_id] = entry
                self.residency.wake_at(info.workflow_id, wake_at)
        unknown = [i for i in made.resume if i.workflow_id not in self.directory.entries]
        log.info("recovering %d workflow(s), %d suspended", len(unknown), len(made.suspended))
        await recovery.paced(
            [(info.workflow_id, info.workflow_type) for info in unknown], self.placement.resume
        )

    async def _rechecked(self) -> None:
        try:
            members = list(self.pool.members.values())
            await asyncio.gather(*(self.placement.learn(member) for member in members))
            await self._recover()
        finally:
            self._rechecking = False
            if self._recheck_again:
                self._recheck_again = False
                self.recheck()
