"""Starts at the control plane: new workflows, ids that exist, new runs of ended ones, and
children a parent recorded. Workflow code is kept with the store the first time it is seen
(the definitions catalogue), so any later host, driver or cluster can run it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.control.directory import Directory
from aion_ray.control.placement import Placement
from aion_ray.control.results import Results
from aion_ray.engine.outcomes import terminal_status
from aion_ray.engine.starts import StartSpec, child_start, existing_start, start_event
from aion_ray.engine.unhosted import new_run_events
from aion_ray.errors import SequenceConflictError, WorkflowAlreadyStartedError
from aion_ray.model import events as ev
from aion_ray.model.clock import Clock
from aion_ray.model.history import current_run, current_terminal
from aion_ray.model.ids import new_run_id
from aion_ray.runtime import commands as cmd

Recorded = Callable[[str, Sequence[ev.Event]], None]
"""Told of the events (of a workflow type) the control plane appended itself."""


class Starts:
    """Starting workflows; see the module docstring."""

    def __init__(
        self, directory: Directory, placement: Placement, results: Results, clock: Clock
    ) -> None:
        self.directory = directory
        self.placement = placement
        self.store = placement.store
        self.results = results
        self.clock = clock
        self._catalogued: set[tuple[str, str]] = set()
        self._saving: dict[tuple[str, str], asyncio.Future[None]] = {}
        self.recorded: Recorded = lambda workflow_type, events: None  # (its metrics)

    async def start(self, spec: StartSpec) -> str:
        """Start the workflow (idempotent by id); its run id."""
        definition = spec.definition
        await self.catalogue(definition)
        await self.directory.settled(spec.workflow_id)
        entry = self.directory.entries.get(spec.workflow_id)
        if entry is not None:
            existing_start(
                await self.store.read_history(spec.workflow_id), definition, spec.payload
            )
            return entry.run_id
        started = start_event(
            definition, spec.payload, spec.search_attributes, spec.execution_timeout
        )
        run_id = new_run_id()
        try:
            await self.placement.place(definition, spec.workflow_id, started, run_id)
        except SequenceConflictError:
            return await self._taken(spec)
        return run_id

    async def _taken(self, spec: StartSpec) -> str:
        """The id exists in the store: the same open workflow is adopted, anything else is
        refused (or, asked for, a new run follows an ended one)."""
        history = await self.store.read_history(spec.workflow_id)
        terminal = current_terminal(history)
        ended = terminal is not None and not isinstance(terminal, ev.WorkflowContinuedAsNew)
        if ended and spec.new_run:
            return await self._new_run(spec, history)
        existing_start(history, spec.definition, spec.payload)
        if terminal is not None:
            raise WorkflowAlreadyStartedError(
                spec.workflow_id,
                f"it has ended ({terminal_status(terminal)}); start a new workflow under a new id",
            )
        if await self.placement.find(spec.workflow_id) is None:  # else a host holds it
            await self.placement.resume(spec.workflow_id, spec.definition.name)
        return current_run(history)[0].run_id

    async def _new_run(self, spec: StartSpec, history: Sequence[ev.Event]) -> str:
        """Record a new run of a finished workflow (under the control plane's lease, taken in
        the same append), then host it like any resumed workflow."""
        last = current_run(history)[0]
        if not isinstance(last, ev.WorkflowStarted) or last.workflow_type != spec.definition.name:
            found = last.workflow_type if isinstance(last, ev.WorkflowStarted) else "unknown"
            raise WorkflowAlreadyStartedError(
                spec.workflow_id, f"it is a {found!r} workflow, not {spec.definition.name!r}"
            )
        run_id = new_run_id()
        started = start_event(
            spec.definition, spec.payload, spec.search_attributes, spec.execution_timeout
        )
        events = new_run_events(history, self.clock, started, run_id)
        try:
            await self.store.append_as_holder(spec.workflow_id, events, len(history))
        except SequenceConflictError:  # another caller's new run, or its retry, came first
            return await self._taken(spec)
        self.recorded(spec.definition.name, events)
        self.results.forget(spec.workflow_id)
        await self.placement.resume(spec.workflow_id, spec.definition.name)
        return run_id

    async def catalogue(self, definition: WorkflowDefinition[Any]) -> None:
        """Keep the definition with the store the first time this code is seen: one write
        shared by the concurrent starts that need it, marked only once it is written (a
        failed write is tried again by the next start)."""
        self.placement.code.add(definition)
        key = (definition.name, definition.fingerprint)
        if key in self._catalogued:
            return
        saving = self._saving.get(key)
        if saving is None:
            saving = asyncio.ensure_future(self.store.save_definition(definition))
            self._saving[key] = saving
            saving.add_done_callback(lambda done: self._saved(key, done))
        await asyncio.shield(saving)  # InvalidInputError: the code cannot be kept

    def _saved(self, key: tuple[str, str], done: asyncio.Future[None]) -> None:
        self._saving.pop(key, None)
        if not done.cancelled() and done.exception() is None:
            self._catalogued.add(key)

    async def child(self, parent_id: str, parent_run_id: str, command: cmd.StartChild) -> None:
        """A parent recorded a child: start it, or tell the parent why not / how it ended."""
        definition = command.definition or self.placement.code.get(command.workflow_type)
        if definition is not None:
            await self.catalogue(definition)
        child_id = command.child_workflow_id
        await self.directory.settled(child_id)
        if child_id in self.directory.entries:
            return  # running already: its end reaches the parent
        history = await self.store.read_history(child_id)
        decision = child_start(parent_id, parent_run_id, command, history, definition)
        parent = self.directory.member_of(parent_id)
        if decision.refused is not None and parent is not None:
            parent.host.child_not_started(parent_id, command.child_id, decision.refused)
        elif decision.terminal is not None and parent is not None:
            parent.host.child_finished(parent_id, command.child_id, decision.terminal)
        elif decision.launch is not None and decision.definition is not None:
            try:
                await self.placement.place(
                    decision.definition, child_id, decision.launch, command.child_run_id
                )
            except SequenceConflictError:
                await self.child(parent_id, parent_run_id, command)
        elif history:
            await self.placement.resume(child_id, command.workflow_type)
