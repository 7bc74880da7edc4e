"""The registry's residency: suspended workflows, their wakes, pool pressure, and signals and
cancels recorded for workflows no host holds before they are made resident."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aion_ray.actors.calls import call
from aion_ray.actors.config import STORE_NAME
from aion_ray.actors.parking import append_parked
from aion_ray.actors.pool import Member
from aion_ray.actors.recovery import parked_detail
from aion_ray.actors.registry_placement import Placement
from aion_ray.actors.registry_state import UTC_CLOCK
from aion_ray.engine.outcomes import terminal_status
from aion_ray.engine.parked import parked_cancel, parked_signal
from aion_ray.engine.transport import Parked
from aion_ray.errors import (
    SequenceConflictError,
    WorkflowNotFoundError,
    WorkflowTerminalError,
)
from aion_ray.model import events as ev
from aion_ray.model.history import current_run, current_terminal
from aion_ray.model.payload import Payload
from aion_ray.model.store import LifecycleEntry

RELIEF_PAUSE = 0.2
"""Seconds without pressure rounds after one found no blocked workflow to suspend."""

LEFT = object()  # a host's answer when the workflow is no longer there


class ResidencyControl(Placement):
    """Suspends and wakes workflows; records arrivals for the suspended ones."""

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
                    detail=parked_detail(host, item),
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
        # One round at a time, and none for a while after a round found nobody blocked (a
        # full pool of busy workflows would otherwise be asked again on every hand-out).
        if not self._relieving and time.monotonic() >= self._relief_quiet_until:
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
            if not chosen:
                self._relief_quiet_until = time.monotonic() + RELIEF_PAUSE
        finally:
            self._relieving = False

    async def signal(self, workflow_id: str, name: str, payload: Payload, request_id: str) -> None:
        """Record a signal: by its host if it is resident, else first by the registry, and
        then the workflow is made resident to take it."""
        self.calls["signal"] += 1
        while True:
            await self._settled(workflow_id)
            member = self._member_of(workflow_id)
            if member is not None:
                ref = member.handle.signal.remote(workflow_id, name, payload, request_id)
                if await self._on_host(ref, member) is not LEFT:
                    return
                continue  # it left its host meanwhile: look again
            history = self._open(workflow_id, await self._history(workflow_id))
            arrival = parked_signal(history, UTC_CLOCK, name, payload, request_id)
            if await self._record_parked(workflow_id, history, arrival):
                return

    async def cancel(self, workflow_id: str, reason: str) -> bool:
        """Request cancellation, recorded like a signal; False if the run has ended."""
        self.calls["cancel"] += 1
        while True:
            await self._settled(workflow_id)
            member = self._member_of(workflow_id)
            if member is not None:
                requested = await self._on_host(
                    member.handle.cancel.remote(workflow_id, reason), member
                )
                if requested is not LEFT:
                    return bool(requested)
                continue
            history = self._open(workflow_id, await self._history(workflow_id))
            try:
                arrival = parked_cancel(history, UTC_CLOCK, reason)
            except WorkflowTerminalError:
                return False
            if await self._record_parked(workflow_id, history, arrival):
                return True

    async def _on_host(self, ref: Any, member: Member) -> Any:
        """A call to a workflow's host: its answer, or LEFT if the workflow left the host."""
        try:
            return await call(ref, member.name)
        except WorkflowNotFoundError:
            return LEFT

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
