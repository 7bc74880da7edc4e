"""RegistryActor ``aion-registry``: the control plane on Ray, as wiring over ``Controller``.

All the logic (placement, residency, supervision, recovery, arrivals for suspended
workflows, result waits) is ``aion_ray.control``'s; this actor builds it over the Ray ports
(``actors.ports``), counts its calls for the benchmarks, and runs its periodic work.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import ray

from aion_ray.actors.config import HOST_PREFIX, EngineConfig
from aion_ray.actors.counting import counted
from aion_ray.actors.metrics import observed
from aion_ray.actors.ports import LoopTimers, RayFleet, RayHost, RayStore
from aion_ray.actors.schedules_wiring import registry_scheduler, schedule_verb
from aion_ray.actors.stubs import HostStub, StoreStub
from aion_ray.control.controller import Controller, Settings
from aion_ray.control.reopens import reopen
from aion_ray.control.routes import Route
from aion_ray.engine.starts import StartSpec
from aion_ray.engine.transport import Closure, Placed
from aion_ray.errors import AionError, EngineUnavailableError, WorkflowNotFoundError
from aion_ray.model import events as ev
from aion_ray.model.clock import SystemClock
from aion_ray.model.health import PoolHealth, RegistryHealth
from aion_ray.model.payload import Payload
from aion_ray.model.store import SuspendedWorkflow
from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo
from aion_ray.runtime import commands as cmd

log = logging.getLogger(__name__)

__all__ = ["RegistryActor", "StartSpec", "Started"]

STARTUP_RETRY = 1.0
"""Seconds before a failed start-up is tried again (callers wait for it meanwhile)."""


@dataclass(frozen=True)
class Started:
    """A start's reply: the run, and the actor hosting it (a client may call it directly
    while the workflow stays there; the registry answers everything else)."""

    run_id: str
    host: HostStub | None


@counted
class RegistryActor:
    """Ray actor (async, detached, ``num_cpus=0``): see the module docstring."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.store = StoreStub(config.namespace)
        self.calls: collections.Counter[str] = collections.Counter()  # for benchmarks
        self._controller: Controller | None = None
        self._ready: asyncio.Task[None] | None = None
        self._trimmer: asyncio.Task[None] | None = None
        self.schedules = registry_scheduler(self.store, lambda: self.control)

    @property
    def control(self) -> Controller:
        if self._controller is None:  # made on first use: it needs the running loop
            settings = Settings(
                pool_size=(self.config.pool_min, self.config.pool_max),
                workflows_per_host=self.config.workflows_per_actor,
                idle_timeout=self.config.idle_timeout,
                restart_limit=self.config.restart_limit,
                host_prefix=HOST_PREFIX,
            )
            fleet = RayFleet(self.config)
            self._controller = Controller(
                settings, RayStore(self.store), fleet, SystemClock(), LoopTimers()
            )
            fleet.died = self._controller.pool.died
            self._sampler = observed(self._controller)  # its metrics, and the gauges' sampler
        return self._controller

    async def ready(self) -> None:
        """Answer once the registry runs; the pool warms and the store's running workflows
        are recovered in the background. A start meanwhile waits only for a host."""
        self._starting_up()

    def _starting_up(self) -> None:
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_task(self._start_up())

    async def _attached(self) -> None:
        """Start up if this is the first call since the registry (re)started, and wait
        until it knows what the live hosts hold (answers before that could be wrong)."""
        self._starting_up()
        await self.control.attached.wait()

    async def _start_up(self) -> None:
        self.schedules.start()  # fires once the control plane is attached
        if self._trimmer is None:
            self._trimmer = asyncio.get_running_loop().create_task(self._trim_idle())
        try:
            await self.control.start_up()
        except Exception:
            # Not cached: the next call, or a retry in a moment, starts up again
            # (re-attaching and recovering are idempotent), e.g. once the store answers.
            log.exception("the registry's start-up failed; trying again")
            self._ready = None
            loop = asyncio.get_running_loop()
            loop.call_later(STARTUP_RETRY, self._starting_up)

    async def _trim_idle(self) -> None:
        while True:
            await asyncio.sleep(max(0.5, self.config.idle_timeout / 2))
            self.control.trim()

    # --- starts and hosts' reports ---------------------------------------------------------------

    async def start(self, specs: Sequence[StartSpec]) -> list[Started | AionError]:
        """Start each spec (idempotent by id); for each, its run and host, or the error."""
        await self._attached()
        replies = await self.control.start(specs)
        return [self._started(spec, reply) for spec, reply in zip(specs, replies, strict=True)]

    def _started(self, spec: StartSpec, reply: str | AionError) -> Started | AionError:
        if isinstance(reply, AionError):
            return reply
        member = self.control.directory.member_of(spec.workflow_id)
        if member is None or not isinstance(member.host, RayHost):
            return Started(reply, None)
        return Started(reply, member.host.stub)

    async def start_child(
        self, parent_id: str, parent_run_id: str, command: cmd.StartChild
    ) -> None:
        await self._attached()
        await self.control.start_child(parent_id, parent_run_id, command)

    async def closed(self, host: str, closures: Sequence[Closure]) -> None:
        self._starting_up()
        self.control.closed(host, closures)
        self.schedules.ended()

    async def placed(
        self, host: str, placements: Sequence[Placed], withdrawn: Sequence[Placed] = ()
    ) -> None:
        """A host took these workflows from clients that started them there directly (and
        these ``withdrawn`` starts of them were refused)."""
        self._starting_up()
        self.control.placed(host, placements, withdrawn)

    async def routes(
        self, known: int, timeout: float = 10.0
    ) -> tuple[int, list[tuple[Route, HostStub]]]:
        """The pool as clients see it (a long poll: returns when its version is not
        ``known``, or after ``timeout`` seconds): the version, and each host's route with
        its stub."""
        await self._attached()
        version, view = await self.control.routes.wait(known, timeout)
        stubs = {
            name: member.host.stub
            for name, member in self.control.pool.members.items()
            if isinstance(member.host, RayHost)
        }
        return version, [(route, stubs[route.name]) for route in view if route.name in stubs]

    async def suspended(self, host: str, suspensions: Sequence[SuspendedWorkflow]) -> None:
        """A host suspended these workflows: they wait in history, and here, for a wake."""
        self._starting_up()
        self.control.suspended(host, suspensions)

    async def wake(self, workflow_ids: Sequence[str]) -> None:
        """A host let these workflows go, but they recorded something as they left."""
        await self._attached()
        self.control.wake(workflow_ids)

    async def route_signal(self, command: cmd.SendSignal, request_id: str) -> None:
        """A workflow's signal to another one (its request id makes a repeat harmless)."""
        await self._attached()
        await self.control.route_signal(command, request_id)

    # --- clients ---------------------------------------------------------------------------------
    schedule = schedule_verb  # schedule(verb, *args): see ``actors.schedules_wiring``

    async def signal(self, workflow_id: str, name: str, payload: Payload, request_id: str) -> None:
        await self._attached()
        await self.control.arrivals.signal(workflow_id, name, payload, request_id)

    async def cancel(self, workflow_id: str, reason: str) -> bool:
        await self._attached()
        return await self.control.arrivals.cancel(workflow_id, reason)

    async def terminate(self, workflow_id: str, reason: str) -> None:
        await self._attached()
        await self.control.arrivals.terminate(workflow_id, reason)

    async def hold(self, workflow_id: str, reason: str | None) -> None:
        await self._attached()
        await self.control.arrivals.hold(workflow_id, reason)

    async def reopen(self, workflow_id: str) -> None:
        await self._attached()
        await reopen(self.control, workflow_id)

    async def query(self, workflow_id: str, name: str, args: Sequence[Any]) -> Any:
        await self._attached()
        return await self.control.arrivals.query(workflow_id, name, args)

    async def result(self, workflow_id: str, timeout: float | None = None) -> ev.Event | None:
        """The terminal event of the workflow's last run, once it has one (None: ``timeout``
        seconds passed first)."""
        await self._attached()
        return await self.control.result(workflow_id, timeout)

    async def results(
        self, waits: Sequence[tuple[str, float | None]]
    ) -> AsyncIterator[tuple[int, ev.Event | AionError | None]]:
        """Many result waits in one streaming call: yields ``(index, answer)`` for each wait
        as its answer comes: the terminal event, None (its timeout passed) or the AionError
        that refuses it."""
        await self._attached()
        loop = asyncio.get_running_loop()
        tasks = {
            loop.create_task(self.control.result(wid, timeout)): index
            for index, (wid, timeout) in enumerate(waits)
        }
        pending = set(tasks)
        try:
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    error = task.exception()
                    answer = task.result() if error is None else _as_aion_error(error)
                    yield tasks[task], answer
        finally:
            for task in pending:  # the caller went away
                task.cancel()

    async def describe(self, workflow_id: str) -> WorkflowInfo:
        await self._attached()
        info = await self.store.workflow_info(workflow_id)
        if info is None:
            raise WorkflowNotFoundError(workflow_id)
        return self._with_residency(info)

    async def list_workflows(self, flt: WorkflowFilter) -> list[WorkflowInfo]:
        await self._attached()
        infos = await self.store.list_workflows(flt)
        return [self._with_residency(info) for info in infos]

    def _with_residency(self, info: WorkflowInfo) -> WorkflowInfo:
        residency = self.control.directory.residency(info.workflow_id)
        return info.model_copy(update={"residency": residency})

    async def where(self, workflow_id: str) -> str | None:
        """The name of the actor hosting the workflow (None: not resident)."""
        await self._attached()
        return await self.control.where(workflow_id)

    async def locate(self, workflow_ids: Sequence[str]) -> list[str | None]:
        """``where`` for many workflows in one call (handles that know no host)."""
        await self._attached()
        return list(await asyncio.gather(*(self.control.where(wid) for wid in workflow_ids)))

    async def pid(self) -> int:
        return os.getpid()

    async def health(self) -> tuple[RegistryHealth, PoolHealth, int, int]:
        """Itself, the pool, and how many open workflows are resident and suspended."""
        await self._attached()
        restarted = ray.get_runtime_context().was_current_actor_reconstructed
        me = RegistryHealth(True, os.getpid(), restarted, self.control.pool.deaths)
        return (me, *self.control.health())

    async def stats(self) -> dict[str, dict[str, int]]:
        """Calls taken by the registry and by its live hosts, by method (for benchmarks)."""
        hosts: collections.Counter[str] = collections.Counter()
        for member in list(self.control.pool.members.values()):
            if isinstance(member.host, RayHost):
                hosts.update(await member.host.stub.stats())
        return {"registry": dict(self.calls), "hosts": dict(hosts)}

    async def shutdown(self) -> None:
        """Stop every pooled actor (the histories stay in the store)."""
        if self._ready is not None:
            self._ready.cancel()
        if self._controller is not None:
            self._controller.pool.close()


def _as_aion_error(error: BaseException) -> AionError:
    if isinstance(error, AionError):
        return error
    return EngineUnavailableError("aion-registry", f"{type(error).__name__}: {error}")
