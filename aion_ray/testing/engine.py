"""TestEngine: the whole engine in-process, on the in-memory store, with a clock that skips.

Workflows run on the same runtime and WorkflowDriver as in production; only the host is
different (see ``aion_ray.testing.host``): activities run inline, and whenever every workflow
is blocked on time the fake clock jumps to the next timer, so a 30-day sleep takes
milliseconds. Handles mirror the real client's, so tests read like production code.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from functools import cached_property
from typing import Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.display.infos import WorkflowList
from aion_ray.engine.bulk import Status, applicable, apply_each, bulk_filter
from aion_ray.engine.driver import WorkflowDriver
from aion_ray.engine.starts import (
    StartEvent,
    checked_execution_timeout,
    encode_input,
    existing_start,
    start_event,
)
from aion_ray.errors import SequenceConflictError, WorkflowNotFoundError
from aion_ray.model import events as ev
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.ids import new_run_id, new_workflow_id, validate_workflow_id
from aion_ray.model.payload import Payload
from aion_ray.model.schedule_state import ScheduleDescription
from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo
from aion_ray.testing.handle import TestWorkflowHandle
from aion_ray.testing.host import InProcessHost
from aion_ray.testing.schedule_handle import TestScheduleHandle
from aion_ray.testing.schedules import EngineSchedules


class TestEngine(InProcessHost):
    """Runs workflows in-process with a fake clock; see the module docstring."""

    __test__ = False  # not a pytest test class, despite the name

    # --- the client surface --------------------------------------------------------------------

    def start(
        self,
        workflow: WorkflowDefinition[Any],
        arg: Any = None,
        *,
        id: str | None = None,
        search_attributes: dict[str, ev.SearchAttributeValue] | None = None,
        execution_timeout: float | None = None,
    ) -> TestWorkflowHandle[Any]:
        """Start ``workflow`` (idempotent by id: the same start returns the same workflow);
        ``execution_timeout`` overrides the workflow's ``timeout`` for this run."""
        timeout = checked_execution_timeout(execution_timeout)
        definition = self.core.register(workflow)
        workflow_id = (
            validate_workflow_id(id) if id is not None else new_workflow_id(self.clock, self._bytes)
        )
        payload = encode_input(definition, arg, self.max_payload_bytes)
        hosted = self.core.drivers.get(workflow_id)
        if hosted is not None:
            existing_start(self.store.read_history(workflow_id), definition, payload)
        else:
            started = start_event(definition, payload, search_attributes, timeout)
            self._start_new(workflow_id, definition, payload, started)
        self.run_until_idle()
        return TestWorkflowHandle(self, workflow_id, definition)

    def _start_new(
        self,
        workflow_id: str,
        definition: WorkflowDefinition[Any],
        payload: Payload,
        started: StartEvent,
    ) -> None:
        """Append the start at seq 0 with the lease in one write; read only if it is refused."""
        run_id = new_run_id(self.clock, self._bytes)
        driver = self.core.launch(workflow_id, definition, started, run_id)
        failure = next((f for f in self.commit(force=[driver]) if f.driver is driver), None)
        if failure is None:
            return
        if not isinstance(failure.error, SequenceConflictError):
            raise failure.error
        existing_start(self.store.read_history(workflow_id), definition, payload)

    def get(self, workflow_id: str) -> TestWorkflowHandle[Any]:
        """A handle for an existing workflow; WorkflowNotFoundError if there is none."""
        history = self.store.read_history(workflow_id)
        if not history:
            raise WorkflowNotFoundError(workflow_id)
        started = next(e for e in history if isinstance(e, ev.WorkflowStarted))
        return TestWorkflowHandle(
            self, workflow_id, self.core.definitions.get(started.workflow_type)
        )

    def list(
        self,
        *,
        status: str | WorkflowStatus | None = None,
        workflow_type: str | None = None,
        search_attributes: dict[str, ev.SearchAttributeValue] | None = None,
        limit: int | None = None,
    ) -> WorkflowList:
        """Workflows matching every condition given, oldest first (a list that renders as a
        table in Jupyter, as the real client's does)."""
        flt = WorkflowFilter(
            status=(WorkflowStatus(status),) if status is not None else None,
            workflow_type=workflow_type,
            search_attributes=search_attributes or {},
            limit=limit,
        )
        return WorkflowList(self._with_residency(info) for info in self.store.list_workflows(flt))

    # --- schedules (see ``aion_ray.testing.schedules``) ----------------------------------------

    def schedule(
        self, schedule_id: str, workflow: WorkflowDefinition[Any], arg: Any = None, **spec: Any
    ) -> TestScheduleHandle:
        """Create schedule ``schedule_id``, running ``workflow(arg)`` at each tick of ``spec``
        (the fields of ``aion.ScheduleSpec``: ``every`` or ``cron``, ``timezone``, ``overlap``,
        ...); creating the same schedule again returns it. Ticks fire on the fake clock.
        ScheduleSpecError (or PayloadError) for bad input, with nothing stored."""
        handle = self._schedules.create(schedule_id, workflow, arg, **spec)
        self._schedules.fire()
        return handle

    def get_schedule(self, schedule_id: str) -> TestScheduleHandle:
        """A handle for schedule ``schedule_id``; ScheduleNotFoundError if there is none."""
        self._schedules.get(schedule_id)
        return TestScheduleHandle(self._schedules, schedule_id)

    def list_schedules(self) -> builtins.list[ScheduleDescription]:
        """Every schedule, described, by id."""
        return [self.get_schedule(sid).describe() for sid in self._schedules.ids()]

    @cached_property
    def _schedules(self) -> EngineSchedules:
        return EngineSchedules(self)

    def next_tick(self) -> datetime | None:
        return self._schedules.next_due()

    def fire_ticks(self) -> None:
        self._schedules.fire()

    def closed(self, driver: WorkflowDriver, terminal: ev.Event) -> None:
        """A run ended: its parent hears of it, then its schedule may start a buffered tick."""
        super().closed(driver, terminal)
        self._ready.append(self._schedules.release)

    # --- operator verbs over many workflows (see ``aion_ray.engine.bulk``) ----------------------

    def terminate_many(
        self, *, status: Status = None, workflow_type: str | None = None, reason: str = "terminated"
    ) -> int:
        """Terminate every open workflow matching the filter; how many were terminated (a run
        that ended meanwhile is not counted). The other ``*_many`` are alike."""
        return self._many("terminate", status, workflow_type, reason)

    def cancel_many(
        self, *, status: Status = None, workflow_type: str | None = None, reason: str = "cancelled"
    ) -> int:
        return self._many("cancel", status, workflow_type, reason)

    def pause_many(
        self, *, status: Status = None, workflow_type: str | None = None, reason: str = "paused"
    ) -> int:
        return self._many("pause", status, workflow_type, reason)

    def resume_many(self, *, status: Status = None, workflow_type: str | None = None) -> int:
        return self._many("resume", status, workflow_type, None)

    def reopen_many(self, *, status: Status = None, workflow_type: str | None = None) -> int:
        return self._many("reopen", status, workflow_type, None)

    def _many(
        self, name: str, status: Status, workflow_type: str | None, reason: str | None
    ) -> int:
        verb, flt = bulk_filter(name, status, workflow_type, reason)
        ids = applicable(self.store.list_workflows(flt), verb)
        return apply_each(verb, reason, (self.get(workflow_id) for workflow_id in ids))

    def describe(self, workflow_id: str) -> WorkflowInfo:
        info = self.store.workflow_info(workflow_id)
        if info is None:
            raise WorkflowNotFoundError(workflow_id)
        return self._with_residency(info)

    # --- internals -----------------------------------------------------------------------------

    def _with_residency(self, info: WorkflowInfo) -> WorkflowInfo:
        driver = self.core.drivers.get(info.workflow_id)
        resident = driver is not None and driver.is_open
        return info.model_copy(update={"residency": "resident" if resident else "suspended"})
