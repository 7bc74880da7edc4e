"""Controller: the control plane, composed of objects with one job each.

``Pool`` (hosts and their slots), ``Directory`` (where each open workflow lives),
``Placement`` (hosting and resuming, with the ``Supervisor``'s restart limit), ``Residency``
(suspended workflows, their wakes, relief under pool pressure), ``Arrivals`` (signals,
cancels and queries wherever the workflow is), ``Starts`` and ``Results``. The registry
actor is wiring over this class; tests run it with fake hosts and a fake clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from aion_ray.control.arrivals import Arrivals
from aion_ray.control.directory import Directory, Entry
from aion_ray.control.placement import Placement
from aion_ray.control.pool import Member, Pool
from aion_ray.control.ports import Fleet, Store, Timers
from aion_ray.control.reconcile import Reconciler
from aion_ray.control.residency import Residency
from aion_ray.control.results import Results
from aion_ray.control.routes import Routes
from aion_ray.control.starts import Starts
from aion_ray.control.supervision import Supervisor
from aion_ray.engine.host import undeliverable
from aion_ray.engine.observe import NO_METRICS, Metrics, observe_appended
from aion_ray.engine.starts import StartSpec
from aion_ray.engine.transport import Closure, Placed
from aion_ray.errors import (
    AionError,
    EngineUnavailableError,
    WorkflowNotFoundError,
    WorkflowTerminalError,
)
from aion_ray.model import events as ev
from aion_ray.model.clock import Clock
from aion_ray.model.health import PoolHealth
from aion_ray.model.history import current_terminal
from aion_ray.model.store import SuspendedWorkflow
from aion_ray.runtime import commands as cmd

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    """How the control plane runs (``aion.connect``'s options)."""

    pool_size: tuple[int, int] = (2, 32)
    workflows_per_host: int = 1
    idle_timeout: float = 30.0
    restart_limit: tuple[int, float] = (5, 60.0)
    host_prefix: str = "aion-host-"


class Controller:
    """The control plane; see the module docstring."""

    def __init__(
        self, settings: Settings, store: Store, fleet: Fleet, clock: Clock, timers: Timers
    ) -> None:
        self.settings = settings
        self.store = store
        self.fleet = fleet
        self.clock = clock
        self.pool = Pool(
            settings.pool_size,
            fleet,
            clock,
            timers,
            on_death=self._host_died,
            on_pressure=self._pressure,
            name_prefix=settings.host_prefix,
        )
        self.directory = Directory(self.pool)
        self.supervisor = Supervisor(clock, settings.restart_limit)
        self.placement = Placement(
            self.directory, store, self.supervisor, clock, timers, settings.workflows_per_host
        )
        self.placement.on_closed = self._closed
        self.placement.on_placed = self.placed
        self.routes = Routes(self.pool)
        self.pool.on_change = self.routes.changed
        self.residency = Residency(self.directory, self.placement, clock, timers)
        self.arrivals = Arrivals(self.directory, self.placement, clock)
        self.results = Results()
        self.starts = Starts(self.directory, self.placement, self.results, clock)
        self.reconciler = Reconciler(
            fleet, store, self.pool, self.directory, self.placement, self.residency, self.placed
        )
        self.attached = self.reconciler.attached  # set once it knows what live hosts hold
        self.metrics: Metrics = NO_METRICS
        """Told of the runs this control plane starts or ends itself (no host's append
        counted them), and sampled for the pool's and the residency's gauges."""
        self.starts.recorded = self._recorded

    # --- start-up --------------------------------------------------------------------------------

    async def start_up(self) -> None:
        """Re-attach to the live hosts, warm the pool, recover (see ``Reconciler``)."""
        await self.reconciler.start_up()

    # --- what clients and hosts ask --------------------------------------------------------------

    async def start(self, specs: Sequence[StartSpec]) -> list[str | AionError]:
        """Start each spec (idempotent by id): its run id, or the error refusing it."""
        replies = await asyncio.gather(
            *(self.starts.start(spec) for spec in specs), return_exceptions=True
        )
        return [_reply(reply) for reply in replies]

    async def start_child(
        self, parent_id: str, parent_run_id: str, command: cmd.StartChild
    ) -> None:
        await self.starts.child(parent_id, parent_run_id, command)

    def closed(self, host: str, closures: Sequence[Closure]) -> None:
        """Runs ended on ``host`` (a continue-as-new keeps the workflow there)."""
        for closure in closures:
            if isinstance(closure.terminal, ev.WorkflowContinuedAsNew):
                entry = self.directory.entries.get(closure.workflow_id)
                if entry is not None:
                    entry.run_id = closure.terminal.next_run_id
                continue
            self._closed(host, closure.workflow_id, closure.terminal, closure.parent)

    def placed(
        self, host: str, placements: Sequence[Placed], withdrawn: Sequence[Placed] = ()
    ) -> None:
        """``host`` took these workflows without this control plane placing them (clients
        started them there directly): count them where they are. A ``withdrawn`` start
        was refused after it was reported (its id existed): forget that report."""
        for placed in placements:
            if placed.workflow_id in self.directory.entries:
                continue  # known: placed by this control plane, or suspended (the id exists)
            if self.directory.ended(placed.workflow_id, placed.run_id):
                continue  # a report older than the run's end
            if self.pool.hosted(host, placed.workflow_id, placed.slot) is not None:
                self.directory.entries[placed.workflow_id] = Entry(
                    placed.workflow_id, placed.run_id, placed.workflow_type, host
                )
        for gone in withdrawn:
            entry = self.directory.entries.get(gone.workflow_id)
            member = self.pool.members.get(host)
            if entry is not None and member is not None and entry.run_id == gone.run_id:
                self.directory.unhost(gone.workflow_id, member)

    def suspended(self, host: str, suspensions: Sequence[SuspendedWorkflow]) -> None:
        """``host`` let these workflows go: they are suspended here at once (the host waits
        for this answer before it drops them), their lifecycle rows written after."""
        logged = self.residency.suspended(host, suspensions)
        if logged:
            self.pool.background.run(self.store.record_lifecycle(logged))

    def wake(self, workflow_ids: Sequence[str]) -> None:
        """Make these workflows resident again: a host let them go while they were
        recording something, or gave up rebuilding them (the store was out of reach)."""
        for workflow_id in workflow_ids:
            entry = self.directory.entries.get(workflow_id)
            if entry is None:
                continue
            member = self.directory.member_of(workflow_id)
            if member is None:
                self.placement.later(workflow_id, entry.workflow_type)
            else:
                self.pool.background.run(self.placement.recheck(workflow_id, member))

    async def route_signal(self, command: cmd.SendSignal, request_id: str) -> None:
        """A workflow's signal to another one (its request id makes a repeat harmless)."""
        try:
            await self.arrivals.signal(
                command.target_workflow_id, command.name, command.payload, request_id
            )
        except (WorkflowNotFoundError, WorkflowTerminalError):
            # No open workflow takes it: a lifecycle fact, not an error of the sender.
            await self.store.record_lifecycle([undeliverable(command, self.clock.now())])

    async def result(self, workflow_id: str, timeout: float | None) -> ev.Event | None:
        """The terminal event of the workflow's last run, once it has one (None:
        ``timeout`` seconds passed first)."""
        await self.directory.settled(workflow_id)
        recent = self.results.recent(workflow_id)
        if recent is not None:
            return recent
        if workflow_id not in self.directory.entries:
            history = await self.store.read_history(workflow_id)
            if not history:
                raise WorkflowNotFoundError(workflow_id)
            terminal = current_terminal(history)
            if terminal is not None and not isinstance(terminal, ev.WorkflowContinuedAsNew):
                return terminal
        return await self.results.wait(workflow_id, timeout)

    async def where(self, workflow_id: str) -> str | None:
        """The name of the host holding the workflow (None: not resident)."""
        await self.directory.settled(workflow_id)
        member = self.directory.member_of(workflow_id)
        return member.name if member is not None else None

    def health(self) -> tuple[PoolHealth, int, int]:
        """The pool, and how many open workflows are resident and suspended."""
        pool = self.pool
        hosts = len(pool.members)
        busy = sum(1 for member in pool.members.values() if member.load)
        counted = PoolHealth(hosts, busy, hosts - busy, pool.starting, pool.waiting, pool.max_hosts)
        entries = self.directory.entries.values()
        resident = sum(1 for entry in entries if entry.host is not None)
        return counted, resident, len(self.directory.entries) - resident

    def trim(self) -> None:
        """Stop hosts idle for the idle timeout, above the pool's floor (called periodically)."""
        self.pool.trim(self.settings.idle_timeout)

    # --- internals -------------------------------------------------------------------------------

    def _recorded(self, workflow_type: str, events: Sequence[ev.Event]) -> None:
        observe_appended(self.metrics, workflow_type, events)

    def _host_died(self, member: Member) -> None:
        self.placement.host_died(member)
        self.reconciler.recheck()

    def _pressure(self, needed: int) -> None:
        self.residency.relieve(needed)

    def _closed(
        self, host: str, workflow_id: str, terminal: ev.Event, parent: ev.ParentRef | None
    ) -> None:
        entry = self.directory.entries.get(workflow_id)
        if not host and entry is not None:  # ended here, with no host
            self._recorded(entry.workflow_type, [terminal])
        self.directory.close(workflow_id, host)
        self.supervisor.forget(workflow_id)
        self.residency.wakes.clear(workflow_id)
        self.results.ended(workflow_id, terminal)
        if parent is None:
            return
        member = self.directory.member_of(parent.workflow_id)
        if member is not None:
            member.host.child_finished(parent.workflow_id, parent.child_id, terminal)
        elif (waiting := self.directory.entries.get(parent.workflow_id)) is not None:
            # Suspended: made resident, its replay asks for the child again and learns how
            # it ended.
            self.placement.later(waiting.workflow_id, waiting.workflow_type)


def _reply(reply: str | BaseException) -> str | AionError:
    if isinstance(reply, str | AionError):
        return reply
    if isinstance(reply, Exception):
        return _unexpected(reply)
    raise reply


def _unexpected(error: BaseException) -> AionError:
    return EngineUnavailableError("aion-registry", f"{type(error).__name__}: {error}")
