"""The registry's placement and recovery: hosting a workflow on a pooled actor, resuming it
from history, and what happens when its host dies (backoff, then the restart limit)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from aion_ray.actors.calls import actor_gone, call
from aion_ray.actors.parking import append_parked
from aion_ray.actors.pool import Member, Slot
from aion_ray.actors.registry_state import RECENT_CLOSURES, UTC_CLOCK, Entry, RegistryState, log
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.engine.parked import parked_failure
from aion_ray.engine.recorder import EventDraft
from aion_ray.errors import (
    AionError,
    EngineUnavailableError,
)
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.history import current_run


class Placement(RegistryState):
    """Places new and resumed workflows; handles the deaths of their hosts."""

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
            member = await self.pool.acquire(self._slot(definition))
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

    def _slot(self, definition: WorkflowDefinition[Any]) -> Slot:
        return definition.hosting.slot(definition.name, self.config.workflows_per_actor)

    async def _started(self, workflow_id: str, run_id: str) -> bool:
        history = await self._history(workflow_id)
        return bool(history) and current_run(history)[0].run_id == run_id

    async def _resume(self, workflow_ids: Sequence[str], types: dict[str, str]) -> None:
        """Host these workflows again, each on a pooled actor, from their histories."""
        await asyncio.gather(*(self._resume_one(wid, types[wid]) for wid in workflow_ids))

    async def _resume_one(self, workflow_id: str, workflow_type: str) -> None:
        definition = self.definitions.get(workflow_type)
        if definition is None:
            log.error("cannot resume %s: no definition of %r is known", workflow_id, workflow_type)
            return
        # A placement in progress (a start whose host died meanwhile, another resume) is
        # waited for; then, with no await before the mark, it is resumed unless resident.
        await self._settled(workflow_id)
        if self._member_of(workflow_id) is not None:
            return
        done = self._mark_placing(workflow_id)
        try:
            member = await self.pool.acquire(self._slot(definition))
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
        ended = parked_failure(history, UTC_CLOCK, error)
        await append_parked(self.store, entry.workflow_id, ended, len(history))
        started = current_run(history)[0]
        parent = started.parent if isinstance(started, ev.WorkflowStarted) else None
        self._closed_one("", entry.workflow_id, ended[-1], parent)
        log.error("failed %s: %s", entry.workflow_id, error.message)

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
