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
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import ray

from aion_ray.actors import catalogue
from aion_ray.actors.calls import actor_gone, call
from aion_ray.actors.config import STORE_NAME, EngineConfig
from aion_ray.actors.parking import WakeHeap, append_parked
from aion_ray.actors.pool import ActorPool, Member
from aion_ray.actors.workflow_actor import WorkflowActor
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.engine.host import undeliverable
from aion_ray.engine.outcomes import terminal_status
from aion_ray.engine.parked import parked_cancel, parked_failure, parked_signal
from aion_ray.engine.recorder import EventDraft
from aion_ray.engine.starts import child_start, existing_start, start_event
from aion_ray.engine.transport import Parked
from aion_ray.errors import (
    AionError,
    EngineUnavailableError,
    InvalidInputError,
    QueryError,
    SequenceConflictError,
    WorkflowAlreadyStartedError,
    WorkflowNotFoundError,
    WorkflowTerminalError,
)
from aion_ray.model import events as ev
from aion_ray.model.clock import SystemClock
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.history import WorkflowStatus, current_run, current_terminal
from aion_ray.model.ids import new_run_id
from aion_ray.model.payload import Payload
from aion_ray.model.store import LifecycleEntry
from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo
from aion_ray.runtime import commands as cmd

log = logging.getLogger(__name__)
_UTC = SystemClock()
RemoteWorkflowActor = ray.remote(WorkflowActor)
RECENT_CLOSURES = 10_000  # terminal events kept for result waits that come just after the end


@dataclass(frozen=True)
class StartSpec:
    """One ``client.start``: the input is encoded (and checked) by the client."""

    workflow_id: str
    definition: WorkflowDefinition[Any]
    payload: Payload
    search_attributes: dict[str, ev.SearchAttributeValue] | None = None


@dataclass(frozen=True)
class Started:
    """A start's reply: the run, and the actor hosting it (a client may call it directly
    while the workflow stays there; the registry answers everything else)."""

    run_id: str
    host: Any


@dataclass
class Entry:
    """A workflow the registry hosts (closed ones leave; the store keeps the truth)."""

    workflow_id: str
    run_id: str
    workflow_type: str
    host: str | None  # None: suspended
    wake_at: datetime | None = None  # a suspended workflow's next timer


class RegistryActor:
    """Ray actor (async, detached, ``num_cpus=0``): see the module docstring."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.store = ray.get_actor(STORE_NAME, namespace=config.namespace)
        self.entries: dict[str, Entry] = {}
        self.definitions: dict[str, WorkflowDefinition[Any]] = {}
        self._catalogued: set[tuple[str, str]] = set()
        self._closed: OrderedDict[str, ev.Event] = OrderedDict()
        self._results: dict[str, list[asyncio.Future[ev.Event]]] = {}
        self._placing: dict[str, asyncio.Future[None]] = {}
        self._pool: ActorPool | None = None
        self._ready: asyncio.Task[None] | None = None
        self._wakes: WakeHeap | None = None
        self._relieving = False
        self._deaths: dict[str, list[float]] = {}  # workflow id -> when its hosts died
        self.calls: collections.Counter[str] = collections.Counter()  # for benchmarks

    # --- start-up ------------------------------------------------------------------------------

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
            log.info("recovering %d running workflow(s)", len(running))
            await self._resume(
                [info.workflow_id for info in running],
                {info.workflow_id: info.workflow_type for info in running},
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

    @property
    def pool(self) -> ActorPool:
        assert self._pool is not None, "ready() runs first"
        return self._pool

    # --- starts --------------------------------------------------------------------------------

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

    async def _start_one(self, spec: StartSpec) -> str:
        definition = spec.definition
        await self._catalogue(definition)
        await self._settled(spec.workflow_id)
        entry = self.entries.get(spec.workflow_id)
        if entry is not None:
            existing_start(await self._history(spec.workflow_id), definition, spec.payload)
            return entry.run_id
        started = start_event(definition, spec.payload, spec.search_attributes)
        run_id = new_run_id()
        try:
            await self._place(definition, spec.workflow_id, started, run_id)
        except SequenceConflictError:
            return await self._taken(spec)
        return run_id

    async def _taken(self, spec: StartSpec) -> str:
        """The id exists in the store: the same open workflow is adopted, anything else is
        refused."""
        history = await self._history(spec.workflow_id)
        existing_start(history, spec.definition, spec.payload)
        terminal = current_terminal(history)
        if terminal is not None:
            raise WorkflowAlreadyStartedError(
                spec.workflow_id,
                f"it has ended ({terminal_status(terminal)}); start a new workflow under a new id",
            )
        await self._resume([spec.workflow_id], {spec.workflow_id: spec.definition.name})
        return current_run(history)[0].run_id

    async def _catalogue(self, definition: WorkflowDefinition[Any]) -> None:
        """Keep the definition with the store the first time this code is seen."""
        self.definitions[definition.name] = definition
        key = (definition.name, definition.fingerprint)
        if key not in self._catalogued:
            self._catalogued.add(key)
            try:
                entry = catalogue.entry_for(definition)
            except Exception as exc:
                self._catalogued.discard(key)
                raise InvalidInputError(
                    f"workflow {definition.name} cannot be pickled to keep with the store: {exc}"
                ) from exc
            await call(self.store.record_lifecycle.remote([entry]), STORE_NAME)

    async def _place(
        self,
        definition: WorkflowDefinition[Any],
        workflow_id: str,
        started: EventDraft,
        run_id: str,
    ) -> None:
        """Host a new workflow on a pooled actor; returns once its start is durable."""
        done = self._mark_placing(workflow_id)  # before any await: one placement per id
        try:
            member = await self.pool.acquire()
            self.pool.place(member, workflow_id)
            self.entries[workflow_id] = Entry(workflow_id, run_id, definition.name, member.name)
            try:
                await call(
                    member.handle.host_start.remote(definition, workflow_id, started, run_id),
                    member.name,
                )
            except EngineUnavailableError as exc:
                if not actor_gone(exc) or not await self._started(workflow_id, run_id):
                    self._unplace(workflow_id, member)
                    raise
                # Durable, then the host died: its death is handled like any other (the
                # workflow is resumed elsewhere); the start itself succeeded.
            except BaseException:
                self._unplace(workflow_id, member)
                raise
        finally:
            self._placing.pop(workflow_id, None)
            done.set_result(None)

    async def _started(self, workflow_id: str, run_id: str) -> bool:
        history = await self._history(workflow_id)
        return bool(history) and current_run(history)[0].run_id == run_id

    def _mark_placing(self, workflow_id: str) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._placing[workflow_id] = done
        return done

    def _unplace(self, workflow_id: str, member: Member) -> None:
        entry = self.entries.get(workflow_id)
        if entry is not None and entry.host == member.name:
            del self.entries[workflow_id]
        self.pool.release(member.name, workflow_id)

    async def _settled(self, workflow_id: str) -> None:
        """Wait while the workflow is being placed or resumed."""
        while (placing := self._placing.get(workflow_id)) is not None:
            await asyncio.shield(placing)

    # --- resumes -------------------------------------------------------------------------------

    async def _resume(self, workflow_ids: Sequence[str], types: dict[str, str]) -> None:
        """Host these workflows again, each on a pooled actor, from their histories."""
        await asyncio.gather(*(self._resume_one(wid, types[wid]) for wid in workflow_ids))

    async def _resume_one(self, workflow_id: str, workflow_type: str) -> None:
        definition = self.definitions.get(workflow_type)
        if definition is None:
            log.error("cannot resume %s: no definition of %r is known", workflow_id, workflow_type)
            return
        if workflow_id in self._placing or self._member_of(workflow_id) is not None:
            await self._settled(workflow_id)
            return  # another caller is resuming it, or it is resident already
        done = self._mark_placing(workflow_id)
        try:
            member = await self.pool.acquire()
            self.pool.place(member, workflow_id)
            self.entries[workflow_id] = Entry(workflow_id, "", workflow_type, member.name)
            await self._host_resume(member, definition, workflow_id)
        finally:
            self._placing.pop(workflow_id, None)
            done.set_result(None)

    async def _host_resume(
        self, member: Member, definition: WorkflowDefinition[Any], workflow_id: str
    ) -> None:
        try:
            outcome = await call(
                member.handle.host_resume.remote([definition], [workflow_id]), member.name
            )
            resumed = outcome.get(workflow_id)
            entry = self.entries.get(workflow_id)
            if isinstance(resumed, str):
                if entry is not None:  # None: it already ended, in the time of the reply
                    entry.run_id = resumed
            elif resumed is not None:
                self._closed_one(member.name, workflow_id, resumed, None)
            else:
                self._unplace(workflow_id, member)
        except AionError as exc:
            if actor_gone(exc):
                # The host died during the resume: its death is handled like any other
                # (counted against the restart limit, then resumed elsewhere or failed).
                log.warning("host %s died resuming %s", member.name, workflow_id)
                return
            log.exception("resuming %s on %s failed", workflow_id, member.name)
            self._unplace(workflow_id, member)

    def _host_died(self, member: Member) -> None:
        """A pooled actor died: resume each workflow it hosted on another one, backing off
        as its deaths repeat; past ``restart_limit`` the run is failed instead."""
        for workflow_id in list(member.hosted):
            entry = self.entries.get(workflow_id)
            if entry is not None:
                entry.host = None
                delay = self._count_death(workflow_id)
                task = (
                    self._fail_crashing(entry)
                    if delay is None
                    else self._resume_later(entry, delay)
                )
                asyncio.get_running_loop().create_task(task)

    def _count_death(self, workflow_id: str) -> float | None:
        """Seconds to wait before the next resume, or None: the limit is passed."""
        limit, window = self.config.restart_limit
        now = time.monotonic()
        deaths = [at for at in self._deaths.get(workflow_id, []) if now - at < window] + [now]
        self._deaths[workflow_id] = deaths
        if len(deaths) > limit:
            return None
        return min(10.0, 0.05 * 2.0 ** (len(deaths) - 1))

    async def _resume_later(self, entry: Entry, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._resume([entry.workflow_id], {entry.workflow_id: entry.workflow_type})

    async def _fail_crashing(self, entry: Entry) -> None:
        limit, window = self.config.restart_limit
        error = ErrorInfo(
            type="RestartIntensityExceeded",
            message=f"its host died more than {limit} time(s) within {window}s; fix the cause "
            "and reopen the run",
        )
        history = await self._history(entry.workflow_id)
        ended = parked_failure(history, _UTC, error)
        await append_parked(self.store, entry.workflow_id, ended, len(history))
        started = current_run(history)[0]
        parent = started.parent if isinstance(started, ev.WorkflowStarted) else None
        self._closed_one("", entry.workflow_id, ended[-1], parent)
        log.error("failed %s: %s", entry.workflow_id, error.message)

    # --- residency -----------------------------------------------------------------------------

    async def suspended(self, host: str, parked: Sequence[Parked]) -> None:
        """A host suspended these workflows: they wait in history, and here, for a wake."""
        self.calls["suspended"] += 1
        logged = []
        for item in parked:
            entry = self.entries.get(item.workflow_id)
            if entry is None or entry.host != host:
                continue
            entry.host, entry.wake_at = None, item.wake_at
            self.pool.release(host, item.workflow_id)
            if item.wake_at is not None:
                self.wakes.add(item.workflow_id, item.wake_at)
            logged.append(
                LifecycleEntry(
                    workflow_id=item.workflow_id,
                    run_id=item.run_id,
                    recorded_at=datetime.now(UTC),
                    kind="suspended",
                    detail={"host": host},
                )
            )
        if logged:
            await call(self.store.record_lifecycle.remote(logged), STORE_NAME)

    async def _wake_due(self, workflow_id: str, at: datetime) -> None:
        entry = self.entries.get(workflow_id)
        if entry is not None and entry.host is None and entry.wake_at == at:
            await self._resume([workflow_id], {workflow_id: entry.workflow_type})

    def _relieve(self, needed: int) -> None:
        """The pool is full and starts wait: suspend the least recently active blocked
        workflows, across hosts, to make room."""
        if not self._relieving:
            self._relieving = True
            asyncio.get_running_loop().create_task(self._suspend_oldest(needed))

    async def _suspend_oldest(self, needed: int) -> None:
        try:
            members = list(self.pool.members.values())
            idle = await asyncio.gather(
                *(call(m.handle.idle.remote(), m.name) for m in members), return_exceptions=True
            )
            candidates = [
                (seconds, member, wid)
                for member, found in zip(members, idle, strict=True)
                if isinstance(found, dict)
                for wid, seconds in found.items()
            ]
            candidates.sort(key=lambda c: -c[0])
            chosen: dict[str, list[str]] = {}
            for _, member, wid in candidates[:needed]:
                chosen.setdefault(member.name, []).append(wid)
            for name, wids in chosen.items():
                if (host := self.pool.members.get(name)) is not None:
                    host.handle.suspend.remote(wids)
        finally:
            self._relieving = False

    @property
    def wakes(self) -> WakeHeap:
        assert self._wakes is not None, "ready() runs first"
        return self._wakes

    # --- what hosts report ---------------------------------------------------------------------

    async def closed(self, host: str, closures: Sequence[Any]) -> None:
        self.calls["closed"] += 1
        for closure in closures:
            if isinstance(closure.terminal, ev.WorkflowContinuedAsNew):
                entry = self.entries.get(closure.workflow_id)
                if entry is not None:
                    entry.run_id = closure.terminal.next_run_id
                continue
            self._closed_one(host, closure.workflow_id, closure.terminal, closure.parent)

    def _closed_one(
        self, host: str, workflow_id: str, terminal: ev.Event, parent: ev.ParentRef | None
    ) -> None:
        self.entries.pop(workflow_id, None)
        self.pool.release(host, workflow_id)
        self._closed[workflow_id] = terminal
        while len(self._closed) > RECENT_CLOSURES:
            self._closed.popitem(last=False)
        for waiter in self._results.pop(workflow_id, []):
            if not waiter.done():
                waiter.set_result(terminal)
        if parent is not None:
            member = self._member_of(parent.workflow_id)
            if member is not None:
                member.handle.child_finished.remote(parent.workflow_id, parent.child_id, terminal)
            elif (waiting := self.entries.get(parent.workflow_id)) is not None:
                # Suspended: made resident, its replay asks for the child again and learns
                # how it ended.
                types = {waiting.workflow_id: waiting.workflow_type}
                asyncio.get_running_loop().create_task(self._resume(list(types), types))

    async def start_child(
        self, parent_id: str, parent_run_id: str, command: cmd.StartChild
    ) -> None:
        """A parent recorded a child: start it, or tell the parent why not / how it ended."""
        self.calls["start_child"] += 1
        definition = command.definition or self.definitions.get(command.workflow_type)
        if definition is not None:
            await self._catalogue(definition)
        child_id = command.child_workflow_id
        await self._settled(child_id)
        if child_id in self.entries:
            return  # running already: its end reaches the parent
        history = await self._history(child_id)
        decision = child_start(parent_id, parent_run_id, command, history, definition)
        parent = self._member_of(parent_id)
        if decision.refused is not None and parent is not None:
            parent.handle.child_not_started.remote(parent_id, command.child_id, decision.refused)
        elif decision.terminal is not None and parent is not None:
            parent.handle.child_finished.remote(parent_id, command.child_id, decision.terminal)
        elif decision.launch is not None and decision.definition is not None:
            try:
                await self._place(
                    decision.definition, child_id, decision.launch, command.child_run_id
                )
            except SequenceConflictError:
                await self.start_child(parent_id, parent_run_id, command)
        elif history:
            await self._resume([child_id], {child_id: command.workflow_type})

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

    # --- what clients ask ----------------------------------------------------------------------

    async def result(self, workflow_id: str, timeout: float | None = None) -> ev.Event | None:
        """The terminal event of the workflow's last run, once it has one (None: ``timeout``
        seconds passed first)."""
        self.calls["result"] += 1
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

    async def signal(self, workflow_id: str, name: str, payload: Payload, request_id: str) -> None:
        """Record a signal: by its host if it is resident, else first by the registry, and
        then the workflow is made resident to take it."""
        self.calls["signal"] += 1
        while True:
            await self._settled(workflow_id)
            member = self._member_of(workflow_id)
            if member is not None:
                ref = member.handle.signal.remote(workflow_id, name, payload, request_id)
                if await self._on_host(ref, member):
                    return
                continue  # it left its host meanwhile: look again
            history = self._open(workflow_id, await self._history(workflow_id))
            arrival = parked_signal(history, _UTC, name, payload, request_id)
            if await self._record_parked(workflow_id, history, arrival):
                return

    async def cancel(self, workflow_id: str, reason: str) -> bool:
        """Request cancellation, recorded like a signal; False if the run has ended."""
        self.calls["cancel"] += 1
        while True:
            await self._settled(workflow_id)
            member = self._member_of(workflow_id)
            if member is not None:
                requested: list[bool] = []
                ref = member.handle.cancel.remote(workflow_id, reason)
                if await self._on_host(ref, member, requested):
                    return requested[0]
                continue
            history = self._open(workflow_id, await self._history(workflow_id))
            try:
                arrival = parked_cancel(history, _UTC, reason)
            except WorkflowTerminalError:
                return False
            if await self._record_parked(workflow_id, history, arrival):
                return True

    async def _on_host(self, ref: Any, member: Member, reply: list[Any] | None = None) -> bool:
        """A call to a workflow's host; False if the workflow left the host meanwhile."""
        try:
            answer = await call(ref, member.name)
        except WorkflowNotFoundError:
            return False
        if reply is not None:
            reply.append(answer)
        return True

    def _open(self, workflow_id: str, history: list[ev.Event]) -> list[ev.Event]:
        if not history:
            raise WorkflowNotFoundError(workflow_id)
        return history

    async def _record_parked(
        self, workflow_id: str, history: list[ev.Event], arrival: list[ev.Event]
    ) -> bool:
        """Append an arrival for a workflow no host holds, then make it resident; False if
        it became resident meanwhile (the caller goes to its host instead)."""
        if arrival:
            try:
                await append_parked(self.store, workflow_id, arrival, len(history))
            except SequenceConflictError:
                return False
        started = current_run(history)[0]
        assert isinstance(started, ev.WorkflowStarted)
        await self._resume([workflow_id], {workflow_id: started.workflow_type})
        return True

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

    # --- internals -----------------------------------------------------------------------------

    async def _resident(self, workflow_id: str, operation: str) -> Member:
        """The member hosting an open workflow, or the error saying why there is none."""
        await self._settled(workflow_id)
        member = self._member_of(workflow_id)
        if member is not None:
            return member
        history = await self._history(workflow_id)
        if not history:
            raise WorkflowNotFoundError(workflow_id)
        terminal = current_terminal(history)
        if terminal is not None and not isinstance(terminal, ev.WorkflowContinuedAsNew):
            raise WorkflowTerminalError(
                workflow_id, terminal.run_id, terminal_status(terminal), operation
            )
        started = current_run(history)[0]
        assert isinstance(started, ev.WorkflowStarted)
        await self._resume([workflow_id], {workflow_id: started.workflow_type})
        member = self._member_of(workflow_id)
        if member is None:
            raise WorkflowNotFoundError(workflow_id)
        return member

    def _member_of(self, workflow_id: str) -> Member | None:
        entry = self.entries.get(workflow_id)
        if entry is None or entry.host is None:
            return None
        return self.pool.members.get(entry.host)

    async def _history(self, workflow_id: str) -> list[ev.Event]:
        history: list[ev.Event] = await call(
            self.store.read_history.remote(workflow_id), STORE_NAME
        )
        return history

    def _with_residency(self, info: WorkflowInfo) -> WorkflowInfo:
        resident = self._member_of(info.workflow_id) is not None
        return info.model_copy(update={"residency": "resident" if resident else "suspended"})


def _unexpected(error: BaseException) -> AionError:
    return EngineUnavailableError("aion-registry", f"{type(error).__name__}: {error}")
