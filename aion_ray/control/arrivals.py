"""Arrivals for workflows: signals, cancels, terminations and queries, at their host if they
are resident, else recorded first by the control plane (record-before-deliver, under its own
lease) and then the workflow is made resident, and its new host replays the arrival from
history. A termination of a suspended workflow ends it here: no host needs to take it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from aion_ray.control.directory import Directory
from aion_ray.control.placement import Placement
from aion_ray.control.pool import Member
from aion_ray.control.ports import HostDied, HostUnreachable
from aion_ray.engine.outcomes import terminal_status
from aion_ray.engine.unhosted import (
    cancel_events,
    pause_events,
    resume_events,
    signal_events,
    terminate_events,
)
from aion_ray.errors import (
    EngineUnavailableError,
    QueryError,
    SequenceConflictError,
    WorkflowNotFoundError,
    WorkflowTerminalError,
)
from aion_ray.model import events as ev
from aion_ray.model.clock import Clock
from aion_ray.model.history import current_run, current_terminal
from aion_ray.model.payload import Payload

T = TypeVar("T")
LEFT = object()  # a host's answer when the workflow is no longer there
HOST_DEATH_NOTICE = 0.05
"""Seconds to give the pool to learn of a host's death a call ran into."""
PATIENCE = timedelta(seconds=60)
"""How long an arrival keeps following a workflow that keeps leaving its hosts (they die
under it, or it moves) before its caller is told the engine cannot take it now."""


class Arrivals:
    """Delivers arrivals wherever the workflow is; see the module docstring."""

    def __init__(self, directory: Directory, placement: Placement, clock: Clock) -> None:
        self.directory = directory
        self.placement = placement
        self.store = placement.store
        self.clock = clock

    async def signal(self, workflow_id: str, name: str, payload: Payload, request_id: str) -> None:
        """Record a signal: by its host if it is resident, else here first."""
        for _ in self._tries(workflow_id):
            member = await self.placement.find(workflow_id)
            if member is not None:
                call = member.host.signal(workflow_id, name, payload, request_id)
                if await self._on_host(workflow_id, member, call) is not LEFT:
                    return
                continue  # it left its host meanwhile: look again
            history = _open(workflow_id, await self.store.read_history(workflow_id))
            arrival = signal_events(history, self.clock, name, payload, request_id)
            if await self._record(workflow_id, history, arrival):
                return

    async def cancel(self, workflow_id: str, reason: str) -> bool:
        """Request cancellation, recorded like a signal; False if the run has ended."""
        for _ in self._tries(workflow_id):
            member = await self.placement.find(workflow_id)
            if member is not None:
                requested = await self._on_host(
                    workflow_id, member, member.host.cancel(workflow_id, reason)
                )
                if requested is not LEFT:
                    return bool(requested)
                continue
            history = _open(workflow_id, await self.store.read_history(workflow_id))
            try:
                arrival = cancel_events(history, self.clock, reason)
            except WorkflowTerminalError:
                return False
            if await self._record(workflow_id, history, arrival):
                return True
        raise AssertionError("unreachable: _tries raises once patience runs out")

    async def terminate(self, workflow_id: str, reason: str) -> None:
        """End the run at once, at its host or here; WorkflowTerminalError if it has ended."""
        for _ in self._tries(workflow_id):
            member = await self.placement.find(workflow_id)
            if member is not None:
                if (
                    await self._on_host(
                        workflow_id, member, member.host.terminate(workflow_id, reason)
                    )
                    is not LEFT
                ):
                    return
                continue
            history = _open(workflow_id, await self.store.read_history(workflow_id))
            ended = terminate_events(history, self.clock, reason)
            try:
                await self.store.append_as_holder(workflow_id, ended, len(history))
            except SequenceConflictError:
                continue  # it became resident meanwhile: its host terminates it
            started = current_run(history)[0]
            parent = started.parent if isinstance(started, ev.WorkflowStarted) else None
            self.placement.on_closed("", workflow_id, ended[-1], parent)
            return

    async def hold(self, workflow_id: str, reason: str | None) -> None:
        """Pause (a ``reason``) or resume (None) the workflow, at its host or recorded here
        first; WorkflowStateError or WorkflowTerminalError in the wrong state."""
        for _ in self._tries(workflow_id):
            member = await self.placement.find(workflow_id)
            if member is not None:
                if (
                    await self._on_host(workflow_id, member, member.host.hold(workflow_id, reason))
                    is not LEFT
                ):
                    return
                continue
            history = _open(workflow_id, await self.store.read_history(workflow_id))
            if reason is None:
                arrival = resume_events(history, self.clock)
            else:
                arrival = pause_events(history, self.clock, reason)
            if await self._record(workflow_id, history, arrival):
                return

    async def query(self, workflow_id: str, name: str, args: Sequence[Any]) -> Any:
        """Ask the workflow's query handler, making it resident first if it is suspended."""
        for _ in self._tries(workflow_id):
            try:
                member = await self.resident(workflow_id, "query")
            except WorkflowTerminalError as exc:
                raise QueryError(
                    workflow_id, name, f"the workflow has ended ({exc.status})"
                ) from None
            answer = await self._on_host(
                workflow_id, member, member.host.query(workflow_id, name, args)
            )
            if answer is not LEFT:
                return answer
        raise AssertionError("unreachable: _tries raises once patience runs out")

    async def resident(self, workflow_id: str, operation: str) -> Member:
        """The member hosting an open workflow (resumed if suspended), or the error saying
        why there is none."""
        member = await self.placement.find(workflow_id)
        if member is not None:
            return member
        history = _open(workflow_id, await self.store.read_history(workflow_id))
        terminal = current_terminal(history)
        if terminal is not None and not isinstance(terminal, ev.WorkflowContinuedAsNew):
            raise WorkflowTerminalError(
                workflow_id, terminal.run_id, terminal_status(terminal), operation
            )
        await self.placement.resume(workflow_id, _workflow_type(history))
        member = self.directory.member_of(workflow_id)
        if member is None:
            raise WorkflowNotFoundError(workflow_id)
        return member

    def _tries(self, workflow_id: str) -> Iterator[None]:
        """One more look for each turn, until ``PATIENCE`` has passed: then
        EngineUnavailableError (unreachable: the caller may try again)."""
        deadline = self.clock.now() + PATIENCE
        while self.clock.now() < deadline:
            yield None
        raise EngineUnavailableError(
            f"the host of {workflow_id}",
            f"no host kept the workflow long enough to take it ({PATIENCE.seconds}s)",
            state="unreachable",
        )

    async def _on_host(self, workflow_id: str, member: Member, call: Awaitable[T]) -> T | object:
        """A call to a workflow's host: its answer, or LEFT if the workflow left the host."""
        try:
            return await call
        except WorkflowNotFoundError:
            # It left without this control plane hearing of it (a suspension in flight, or
            # a rebuild the host gave up): unless it moved meanwhile, it is suspended now,
            # and the caller's next look records the arrival and makes it resident.
            entry = self.directory.entries.get(workflow_id)
            if entry is not None and entry.host == member.name:
                self.directory.unhost(workflow_id, member, keep=True)
            return LEFT
        except HostDied:
            await asyncio.sleep(HOST_DEATH_NOTICE)  # its death is being handled: look again
            return LEFT
        except HostUnreachable:
            raise EngineUnavailableError(
                member.name, "the workflow's host does not answer", state="unreachable"
            ) from None

    async def _record(
        self, workflow_id: str, history: list[ev.Event], arrival: list[ev.Event]
    ) -> bool:
        """Append an arrival for a workflow no host holds, then make it resident; False if
        it became resident meanwhile (the caller goes to its host instead)."""
        if arrival:
            try:
                await self.store.append_as_holder(workflow_id, arrival, len(history))
            except SequenceConflictError:
                return False
        await self.placement.resume(workflow_id, _workflow_type(history))
        return True


def _open(workflow_id: str, history: list[ev.Event]) -> list[ev.Event]:
    if not history:
        raise WorkflowNotFoundError(workflow_id)
    return history


def _workflow_type(history: Sequence[ev.Event]) -> str:
    started = current_run(history)[0]
    assert isinstance(started, ev.WorkflowStarted)
    return started.workflow_type
