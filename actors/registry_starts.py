"""The registry's starts: new workflows, children, ids that exist, and new runs of ended ones.

Each start is placed once per id (``Placement``); a start for an id the store holds already
is adopted if it asks for the same open workflow, refused if the workflow ended, or, when the
caller asks for a new run, recorded as one and hosted like a resumed workflow. Workflow code
is kept with the store the first time it is seen (the definitions catalogue).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aion_ray.actors import catalogue
from aion_ray.actors.calls import call
from aion_ray.actors.config import STORE_NAME
from aion_ray.actors.parking import append_parked
from aion_ray.actors.registry_residency import ResidencyControl
from aion_ray.actors.registry_state import UTC_CLOCK, StartSpec
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.engine.outcomes import terminal_status
from aion_ray.engine.parked import parked_new_run
from aion_ray.engine.starts import child_start, existing_start, start_event
from aion_ray.errors import InvalidInputError, SequenceConflictError, WorkflowAlreadyStartedError
from aion_ray.model import events as ev
from aion_ray.model.history import current_run, current_terminal
from aion_ray.model.ids import new_run_id
from aion_ray.runtime import commands as cmd


class Starts(ResidencyControl):
    """Starting workflows: see the module docstring."""

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
        await self._resume([spec.workflow_id], {spec.workflow_id: spec.definition.name})
        return current_run(history)[0].run_id

    async def _new_run(self, spec: StartSpec, history: Sequence[ev.Event]) -> str:
        """Record a new run of a finished workflow (under a lease taken in the same append,
        as for a parked workflow), then host it like any resumed workflow."""
        last = current_run(history)[0]
        if not isinstance(last, ev.WorkflowStarted) or last.workflow_type != spec.definition.name:
            found = last.workflow_type if isinstance(last, ev.WorkflowStarted) else "unknown"
            raise WorkflowAlreadyStartedError(
                spec.workflow_id,
                f"it is a {found!r} workflow, not {spec.definition.name!r}",
            )
        run_id = new_run_id()
        started = start_event(spec.definition, spec.payload, spec.search_attributes)
        events = parked_new_run(history, UTC_CLOCK, started, run_id)
        try:
            await append_parked(self.store, spec.workflow_id, events, len(history))
        except SequenceConflictError:  # another caller's new run, or its retry, came first
            return await self._taken(spec)
        self._closed.pop(spec.workflow_id, None)
        await self._resume([spec.workflow_id], {spec.workflow_id: spec.definition.name})
        return run_id

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
