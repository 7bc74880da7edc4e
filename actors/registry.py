"""RegistryActor ``aion-registry``: where each workflow lives, and the way to reach it.

The controller of the engine (Ray Serve's pattern): it maps workflow ids to the pooled actor
hosting them, places starts and resumes onto the pool, routes signals, queries, cancels and
child outcomes, answers result waits, and resumes the workflows of an actor that died. On its
first ``ready`` it recovers every running workflow the store holds (a new cluster over an old
file). Starts arrive in batches (``start``: many per call from a concurrent client).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import ray

from aion_ray.actors import catalogue
from aion_ray.actors.calls import call
from aion_ray.actors.config import STORE_NAME
from aion_ray.actors.parking import WakeHeap
from aion_ray.actors.pool import ActorPool
from aion_ray.actors.recovery import PARKED_QUERY, still_parked
from aion_ray.actors.registry_starts import Starts
from aion_ray.actors.registry_state import (
    Entry,
    Started,
    StartSpec,
    log,
)
from aion_ray.actors.workflow_actor import WorkflowActor
from aion_ray.engine.host import undeliverable
from aion_ray.errors import (
    AionError,
    EngineUnavailableError,
    QueryError,
    WorkflowNotFoundError,
    WorkflowTerminalError,
)
from aion_ray.model import events as ev
from aion_ray.model.history import WorkflowStatus, current_terminal
from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo
from aion_ray.runtime import commands as cmd

RemoteWorkflowActor = ray.remote(WorkflowActor)
__all__ = ["RegistryActor", "StartSpec", "Started"]


class RegistryActor(Starts):
    """Ray actor (async, detached, ``num_cpus=0``): see the module docstring."""

    async def ready(self) -> None:
        """Warm the pool and recover the store's running workflows (once)."""
        self.calls["ready"] += 1
        await self._started_up()

    async def _started_up(self) -> None:
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_task(self._start_up())
        await asyncio.shield(self._ready)

    async def _start_up(self) -> None:
        self._pool = ActorPool(self.config, self._make_actor, self._host_died, self._relieve)
        self._wakes = WakeHeap(self._wake_due)
        await self._pool.warm()
        asyncio.get_running_loop().create_task(self._trim_idle())
        flt = WorkflowFilter(status=(WorkflowStatus.RUNNING, WorkflowStatus.PAUSED))
        running: list[WorkflowInfo] = await call(self.store.list_workflows.remote(flt), STORE_NAME)
        if running:
            types = {info.workflow_type for info in running}
            self.definitions.update(await catalogue.load(self.store, types))
            await self._recover(running)

    async def _recover(self, running: list[WorkflowInfo]) -> None:
        """Leave the workflows that were parked with nothing since parked (their wakes
        armed); resume the rest (see ``recovery``)."""
        table = await call(self.store.sql.remote(PARKED_QUERY), STORE_NAME)
        parked = {p.workflow_id: p for p in still_parked(table)}
        for info in running:
            if (found := parked.get(info.workflow_id)) is not None:
                self.entries[info.workflow_id] = Entry(
                    info.workflow_id, info.run_id, info.workflow_type, None, found.wake_at
                )
                if found.wake_at is not None:
                    self.wakes.add(info.workflow_id, found.wake_at)
        resumed = [info for info in running if info.workflow_id not in parked]
        log.info("recovering %d running workflow(s), %d parked", len(resumed), len(parked))
        await self._resume(
            [info.workflow_id for info in resumed],
            {info.workflow_id: info.workflow_type for info in resumed},
        )

    def _make_actor(self, name: str) -> Any:
        return RemoteWorkflowActor.options(
            name=name,
            namespace=self.config.namespace,
            lifetime="detached",
            num_cpus=0,
            max_restarts=0,
            max_concurrency=10_000,
        ).remote(
            name, self.config.namespace, self.config.max_payload_bytes, self.config.idle_timeout
        )

    async def _trim_idle(self) -> None:
        while True:
            await asyncio.sleep(max(0.5, self.config.idle_timeout / 2))
            self.pool.trim(self.config.idle_timeout)

    async def start(self, specs: Sequence[StartSpec]) -> list[Started | AionError]:
        """Start each spec (idempotent by id); for each, its run and host, or the error
        refusing it."""
        self.calls["start"] += 1
        await self._started_up()
        replies = await asyncio.gather(*(self._start_one(s) for s in specs), return_exceptions=True)
        return [self._reply(spec, reply) for spec, reply in zip(specs, replies, strict=True)]

    def _reply(self, spec: StartSpec, reply: str | BaseException) -> Started | AionError:
        if isinstance(reply, str):
            member = self._member_of(spec.workflow_id)
            return Started(reply, member.handle if member is not None else None)
        return reply if isinstance(reply, AionError) else _unexpected(reply)

    async def closed(self, host: str, closures: Sequence[Any]) -> None:
        self.calls["closed"] += 1
        for closure in closures:
            if isinstance(closure.terminal, ev.WorkflowContinuedAsNew):
                entry = self.entries.get(closure.workflow_id)
                if entry is not None:
                    entry.run_id = closure.terminal.next_run_id
                continue
            self._closed_one(host, closure.workflow_id, closure.terminal, closure.parent)

    async def route_signal(self, command: cmd.SendSignal, request_id: str) -> None:
        """A workflow's signal to another one (its request id makes a repeat harmless)."""
        self.calls["route_signal"] += 1
        try:
            await self.signal(command.target_workflow_id, command.name, command.payload, request_id)
            return
        except (WorkflowNotFoundError, WorkflowTerminalError):
            pass  # no open workflow takes it: a lifecycle fact, not an error of the sender
        entry = undeliverable(command, datetime.now(UTC))
        await call(self.store.record_lifecycle.remote([entry]), STORE_NAME)

    async def result(self, workflow_id: str, timeout: float | None = None) -> ev.Event | None:
        """The terminal event of the workflow's last run, once it has one (None: ``timeout``
        seconds passed first)."""
        self.calls["result"] += 1
        return await self._result_one(workflow_id, timeout)

    async def results(
        self, waits: Sequence[tuple[str, float | None]]
    ) -> AsyncIterator[tuple[int, ev.Event | AionError | None]]:
        """Many result waits in one call (a streaming one): yields ``(index, answer)`` for
        each wait as its answer comes, the terminal event, None (its timeout passed) or the
        AionError that refuses it."""
        self.calls["results"] += 1
        tasks = {
            asyncio.get_running_loop().create_task(self._result_one(wid, timeout)): index
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

    async def _result_one(self, workflow_id: str, timeout: float | None) -> ev.Event | None:
        await self._settled(workflow_id)
        if workflow_id in self._closed:
            return self._closed[workflow_id]
        if workflow_id not in self.entries:
            history = await self._history(workflow_id)
            terminal = current_terminal(history)
            if not history:
                raise WorkflowNotFoundError(workflow_id)
            if terminal is not None and not isinstance(terminal, ev.WorkflowContinuedAsNew):
                return terminal
        waiter: asyncio.Future[ev.Event] = asyncio.get_running_loop().create_future()
        self._results.setdefault(workflow_id, []).append(waiter)
        try:
            return await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return None
        finally:
            waiting = self._results.get(workflow_id, [])
            if waiter in waiting:
                waiting.remove(waiter)

    async def query(self, workflow_id: str, name: str, args: Sequence[Any]) -> Any:
        self.calls["query"] += 1
        try:
            member = await self._resident(workflow_id, "query")
        except WorkflowTerminalError as exc:
            raise QueryError(workflow_id, name, f"the workflow has ended ({exc.status})") from None
        return await call(member.handle.query.remote(workflow_id, name, list(args)), member.name)

    async def describe(self, workflow_id: str) -> WorkflowInfo:
        self.calls["describe"] += 1
        info = await call(self.store.workflow_info.remote(workflow_id), STORE_NAME)
        if info is None:
            raise WorkflowNotFoundError(workflow_id)
        return self._with_residency(info)

    async def list_workflows(self, flt: WorkflowFilter) -> list[WorkflowInfo]:
        self.calls["list_workflows"] += 1
        infos = await call(self.store.list_workflows.remote(flt), STORE_NAME)
        return [self._with_residency(info) for info in infos]

    async def where(self, workflow_id: str) -> str | None:
        """The name of the actor hosting the workflow (None: not resident)."""
        await self._settled(workflow_id)
        member = self._member_of(workflow_id)
        return member.name if member is not None else None

    async def stats(self) -> dict[str, dict[str, int]]:
        """Calls taken by the registry and by its live hosts, by method (for benchmarks)."""
        hosts: collections.Counter[str] = collections.Counter()
        for member in list(self.pool.members.values()):
            hosts.update(await call(member.handle.stats.remote(), member.name))
        return {"registry": dict(self.calls), "hosts": dict(hosts)}

    async def shutdown(self) -> None:
        """Stop every pooled actor (the histories stay in the store)."""
        self.calls["shutdown"] += 1
        if self._pool is not None:
            self.pool.stop_all()


def _as_aion_error(error: BaseException) -> AionError:
    return error if isinstance(error, AionError) else _unexpected(error)


def _unexpected(error: BaseException) -> AionError:
    return EngineUnavailableError("aion-registry", f"{type(error).__name__}: {error}")
