"""Placement: hosting new and resumed workflows on pool members, and resuming the workflows
of a host that died (after the supervisor's backoff, or failing them past its limit)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.authoring.logs import workflow_fields
from aion_ray.control.code import Code
from aion_ray.control.directory import Directory, Entry
from aion_ray.control.pool import Member, Slot
from aion_ray.control.ports import HostDied, HostUnreachable, Store, Timers
from aion_ray.control.supervision import Supervisor
from aion_ray.engine.starts import StartEvent
from aion_ray.engine.transport import Placed
from aion_ray.engine.unhosted import failure_events
from aion_ray.errors import EngineUnavailableError, HostFullError
from aion_ray.model import events as ev
from aion_ray.model.clock import Clock
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.history import current_run, current_terminal
from aion_ray.model.store import LifecycleEntry

log = logging.getLogger(__name__)

PLACEMENT_TRIES = 10
"""Hosts a resume tries when they turn out full (clients filled them meanwhile) or die under
it, before it is tried again later."""
START_PATIENCE = timedelta(seconds=60)
"""How long a start keeps trying hosts that turn out full or die under it (a chaos run kills
them faster than the pool replaces them) before its caller hears "unreachable, try again"."""
RETRY_DELAY = 1.0
"""Seconds before a resume that failed (no room, a host's error) is tried again."""


Closed = Callable[[str, str, ev.Event, "ev.ParentRef | None"], None]
"""(host, workflow id, terminal event, parent): a run ended."""
UNRUNNABLE = "code_unrunnable"
"""The lifecycle kind that says why a workflow was failed: its code cannot run here."""


class Placement:
    """Puts workflows on hosts; see the module docstring."""

    def __init__(
        self,
        directory: Directory,
        store: Store,
        supervisor: Supervisor,
        clock: Clock,
        timers: Timers,
        workflows_per_host: int,
    ) -> None:
        self.directory = directory
        self.pool = directory.pool
        self.store = store
        self.supervisor = supervisor
        self.clock = clock
        self.timers = timers
        self.workflows_per_host = workflows_per_host
        self.code = Code(store)
        self.background = directory.pool.background
        self.on_closed: Closed = lambda host, wid, terminal, parent: None
        self.on_placed: Callable[[str, Sequence[Placed]], None] = lambda host, placed: None

    async def place(
        self,
        definition: WorkflowDefinition[Any],
        workflow_id: str,
        started: StartEvent,
        run_id: str,
    ) -> None:
        """Host a new workflow; returns once its start is durable (raises the host's
        refusal, e.g. SequenceConflictError: the id is taken)."""
        done = self.directory.placing(workflow_id)  # before any await: one placement per id
        slot = self.slot(definition)
        deadline = self.clock.now() + START_PATIENCE
        try:
            while self.clock.now() < deadline:
                member = await self._room(slot, definition.name, workflow_id, run_id)
                if await self._host_start(member, definition, workflow_id, started, run_id):
                    return
            raise EngineUnavailableError(
                "aion-registry",
                f"no host took {workflow_id} in {START_PATIENCE.seconds}s "
                "(each was full or died under it)",
                state="unreachable",
            )
        finally:
            self.directory.placed(workflow_id, done)

    async def _host_start(
        self,
        member: Member,
        definition: WorkflowDefinition[Any],
        workflow_id: str,
        started: StartEvent,
        run_id: str,
    ) -> bool:
        """Start on ``member``; False: it had no room after all, or died before the start
        was recorded (try another)."""
        try:
            await member.host.start(definition, workflow_id, started, run_id, self.slot(definition))
        except HostFullError:
            self.directory.unhost(workflow_id, member)
            await self.learn(member)
            return False
        except HostDied:
            if not await self._started(workflow_id, run_id):
                # Not recorded: another host starts it (an append of the dead one that lands
                # late makes that start find the id taken, and the caller adopts the run).
                self.directory.unhost(workflow_id, member)
                # Ray said so: the pool drops it now (its watch may answer later), so the
                # next try goes to another host, never to this one again.
                self.pool.died(member.name)
                return False
            # Durable, then the host died: its death is handled like any other (the workflow
            # is resumed elsewhere); the start itself succeeded.
        except BaseException:
            self.directory.unhost(workflow_id, member)
            raise
        return True

    async def _room(self, slot: Slot, workflow_type: str, workflow_id: str, run_id: str) -> Member:
        member = await self.pool.acquire(slot)
        self.directory.host(workflow_id, run_id, workflow_type, member)
        return member

    async def learn(self, member: Member) -> None:
        """Count what ``member`` holds as it says (clients started workflows there directly
        and the host's reports have not come, or were lost)."""
        # A death is handled on its own; a host that does not answer is not waited for.
        with contextlib.suppress(HostDied, HostUnreachable):
            self.on_placed(member.name, await member.host.placements())

    async def recheck(self, workflow_id: str, member: Member) -> None:
        """``member`` is said to have let the workflow go: if it does not hold it, host it
        again (elsewhere if need be)."""
        with contextlib.suppress(HostDied, HostUnreachable):
            if any(p.workflow_id == workflow_id for p in await member.host.placements()):
                return
        self.left(workflow_id, member)

    def left(self, workflow_id: str, member: Member) -> None:
        """The workflow is not on ``member`` after all: host it again from its history."""
        entry = self.directory.entries.get(workflow_id)
        if entry is None or entry.host != member.name:
            return  # it moved or ended meanwhile
        self.directory.unhost(workflow_id, member, keep=True)
        self.later(workflow_id, entry.workflow_type)

    async def find(self, workflow_id: str) -> Member | None:
        """The member hosting the workflow (None: suspended, ended or nowhere). One this
        control plane does not know at all is looked for on the live hosts first, so that
        an arrival or a start never moves a workflow a host holds unreported."""
        await self.directory.settled(workflow_id)
        if workflow_id not in self.directory.entries:
            await asyncio.gather(*(self.learn(m) for m in list(self.pool.members.values())))
        return self.directory.member_of(workflow_id)

    def slot(self, definition: WorkflowDefinition[Any]) -> Slot:
        return definition.hosting.slot(definition.name, self.workflows_per_host)

    async def resume(self, workflow_id: str, workflow_type: str) -> None:
        """Host the workflow again, from its history, unless it is resident. One whose
        code cannot run here (see ``Code``) is failed with the reason."""
        definition = await self.code.of(workflow_type)
        # A placement in progress (a start whose host died meanwhile, another resume) is
        # waited for; then, with no await before the mark, it is resumed unless resident.
        await self.directory.settled(workflow_id)
        if self.directory.member_of(workflow_id) is not None:
            return
        if isinstance(definition, ErrorInfo):
            await self._unrunnable(workflow_id, definition)
            return
        done = self.directory.placing(workflow_id)
        slot = self.slot(definition)
        try:
            for _ in range(PLACEMENT_TRIES):
                member = await self._room(slot, workflow_type, workflow_id, "")
                if await self._host_resume(member, definition, workflow_id, slot):
                    return
            self._again(workflow_id, workflow_type)  # every host tried was full: later
        finally:
            self.directory.placed(workflow_id, done)

    def _again(self, workflow_id: str, workflow_type: str) -> None:
        """A resume that did not happen: the workflow stays suspended and is tried again."""
        fields = workflow_fields(workflow_id)
        log.warning(
            "resuming %s did not happen; trying again in %ss",
            workflow_id,
            RETRY_DELAY,
            extra=fields,
        )
        self.timers.call_later(
            RETRY_DELAY, functools.partial(self.later, workflow_id, workflow_type)
        )

    async def _host_resume(
        self, member: Member, definition: WorkflowDefinition[Any], workflow_id: str, slot: Slot
    ) -> bool:
        """Resume on ``member``; False: it had no room after all (try another)."""
        try:
            outcome = await member.host.resume([definition], [workflow_id], slot)
        except HostFullError:
            self.directory.unhost(workflow_id, member, keep=True)
            await self.learn(member)
            return False
        except HostDied:
            # Its death is handled like any other (counted against the restart limit).
            fields = workflow_fields(workflow_id)
            log.warning("host %s died resuming %s", member.name, workflow_id, extra=fields)
            return True
        except Exception:
            fields = workflow_fields(workflow_id)
            log.exception("resuming %s on %s failed", workflow_id, member.name, extra=fields)
            self.directory.unhost(workflow_id, member, keep=True)
            self._again(workflow_id, definition.name)
            return True
        resumed = outcome.get(workflow_id)
        entry = self.directory.entries.get(workflow_id)
        if isinstance(resumed, str):
            if entry is not None:  # None: it already ended, in the time of the reply
                entry.run_id = resumed
        elif resumed is not None:
            self.on_closed(member.name, workflow_id, resumed, None)
        else:
            self.directory.unhost(workflow_id, member)
        return True

    def host_died(self, member: Member) -> None:
        """A host died: resume each workflow it hosted elsewhere, backing off as its deaths
        repeat; past the restart limit the run is failed instead."""
        for workflow_id in list(member.hosted):
            entry = self.directory.entries.get(workflow_id)
            if entry is None:
                continue
            entry.host = None
            delay = self.supervisor.died(workflow_id)
            if delay is None:
                self.background.run(self._fail(workflow_id, self.supervisor.failure()))
            else:
                self.timers.call_later(delay, functools.partial(self.later, *_key(entry)))

    def later(self, workflow_id: str, workflow_type: str) -> None:
        """Resume in the background (from a timer)."""
        self.background.run(self.resume(workflow_id, workflow_type))

    async def _unrunnable(self, workflow_id: str, error: ErrorInfo) -> None:
        """Fail a workflow whose code cannot run here, logging why as a lifecycle row."""
        why = {"type": error.type, "message": error.message}
        logged = LifecycleEntry(
            workflow_id=workflow_id, recorded_at=self.clock.now(), kind=UNRUNNABLE, detail=why
        )
        await self._fail(workflow_id, error, logged)

    async def _fail(
        self, workflow_id: str, error: ErrorInfo, logged: LifecycleEntry | None = None
    ) -> None:
        """End a run no host can hold (its hosts keep dying, or its code cannot run here):
        the controller holds it, and records why (``logged`` first, if given)."""
        history = await self.store.read_history(workflow_id)
        if current_terminal(history) is not None:
            return  # it ended meanwhile
        if logged is not None:
            await self.store.record_lifecycle([logged])
        ended = failure_events(history, self.clock, error)
        await self.store.append_as_holder(workflow_id, ended, len(history))
        started = current_run(history)[0]
        parent = started.parent if isinstance(started, ev.WorkflowStarted) else None
        self.on_closed("", workflow_id, ended[-1], parent)
        fields = workflow_fields(workflow_id, ended[-1].run_id)
        log.error("failed %s: %s", workflow_id, error.message, extra=fields)

    async def _started(self, workflow_id: str, run_id: str) -> bool:
        history = await self.store.read_history(workflow_id)
        return bool(history) and current_run(history)[0].run_id == run_id


def _key(entry: Entry) -> tuple[str, str]:
    return entry.workflow_id, entry.workflow_type
