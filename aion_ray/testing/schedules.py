"""EngineSchedules: the TestEngine's schedules, firing on its fake clock.

The TestEngine is the one writer of its store's schedules, so they are kept here as well
(read from the store once, on first use: a TestEngine over a reopened store carries on with
the schedules stored there), and the engine asks ``next_due`` without a store call. When the
clock reaches a fire time (``fire``), or a run ends while ticks are buffered (``release``),
each schedule takes its step (``aion_ray.control.schedules.plan``): its runs' verbs first,
its new state stored last, so a step taken again starts nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.control.schedules import lifecycle, plan
from aion_ray.control.schedules.book import ScheduleBook
from aion_ray.control.schedules.requests import checked_create, tick_attributes
from aion_ray.engine.starts import encode_input, start_event
from aion_ray.errors import ScheduleSpecError, WorkflowTerminalError
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.schedule_state import ScheduleRun, ScheduleTable, StoredSchedule
from aion_ray.testing.schedule_handle import TestScheduleHandle

if TYPE_CHECKING:
    from aion_ray.testing.engine import TestEngine


class EngineSchedules:
    """The schedules of one TestEngine; see the module docstring."""

    def __init__(self, engine: TestEngine) -> None:
        self._engine = engine
        self._book: ScheduleBook | None = None
        self._stepping = False

    # --- the client surface ----------------------------------------------------------------

    def create(
        self, schedule_id: str, workflow: WorkflowDefinition[Any], arg: Any, **options: Any
    ) -> TestScheduleHandle:
        """Create a schedule, or return the same one (see ``lifecycle.created_or_same``);
        bad input raises ScheduleSpecError (or PayloadError for ``arg``), storing nothing."""
        schedule_id, spec = checked_create(schedule_id, workflow, options)
        definition = self._engine.core.register(workflow)
        payload = encode_input(definition, arg, self._engine.max_payload_bytes)
        existing = self._schedules().find(schedule_id)
        now = self._engine.clock.now()
        kept = lifecycle.created_or_same(existing, schedule_id, definition.name, payload, spec, now)
        if kept is not existing:
            self.store(kept)
        return TestScheduleHandle(self, schedule_id)

    def get(self, schedule_id: str) -> StoredSchedule:
        """The schedule ``schedule_id``; ScheduleNotFoundError if there is none."""
        return self._schedules().get(schedule_id)

    def ids(self) -> list[str]:
        return self._schedules().ids()

    def store(self, schedule: StoredSchedule) -> None:
        """Store ``schedule`` (the store first: a refused write changes nothing here)."""
        self._table().put_schedule(schedule)
        self._schedules().kept(schedule)

    def delete(self, schedule_id: str) -> None:
        self.get(schedule_id)
        self._table().delete_schedule(schedule_id)
        self._schedules().dropped(schedule_id)

    def take(self, step: plan.Step) -> StoredSchedule:
        """Perform ``step``'s verbs on the runs, then store its schedule."""
        for workflow_id in step.terminates:
            self._close(workflow_id, terminate=True)
        for workflow_id in step.cancels:
            self._close(workflow_id, terminate=False)
        for run in step.starts:
            self._start(step.schedule, run)
        self.store(step.schedule)
        self._engine.run_until_idle()
        return step.schedule

    def status_of(self, workflow_id: str) -> WorkflowStatus | None:
        info = self._engine.store.workflow_info(workflow_id)
        return info.status if info is not None else None

    @property
    def now(self) -> datetime:
        return self._engine.clock.now()

    # --- the engine's hooks ----------------------------------------------------------------

    def next_due(self) -> datetime | None:
        """The earliest fire time of an unpaused schedule (no store call once loaded)."""
        return self._schedules().next_due()

    def fire(self) -> None:
        """Step every schedule that is due at the clock's time, until none is; then start
        the buffered ticks whose turn came meanwhile."""
        self._exclusively(self._fire)

    def release(self) -> None:
        """Start buffered ticks whose turn has come (a run of their schedule has ended). A
        run that ends during a step is released when the step is done."""
        self._exclusively(self._release)

    def _exclusively(self, work: Callable[[], None]) -> None:
        if self._stepping:
            return  # a step is under way: it finishes with a release
        self._stepping = True
        try:
            work()
        finally:
            self._stepping = False

    def _fire(self) -> None:
        while due := self._schedules().due(self.now):
            for schedule in due:
                self.take(plan.advance(schedule, self.now, self.status_of))
            self._release()

    def _release(self) -> None:
        started = True
        while started:  # a released run may end at once, and release the next
            started = False
            for schedule in self._schedules().waiting():
                step = plan.decide_ticks(schedule, [], "tick", self.now, self.status_of)
                if step.starts:
                    self.take(step)
                    started = True

    # --- internals -------------------------------------------------------------------------

    def _start(self, schedule: StoredSchedule, run: ScheduleRun) -> None:
        engine = self._engine
        if engine.store.workflow_info(run.workflow_id) is not None:
            return  # started already: the tick's run is this one
        definition = engine.core.definitions.get(schedule.workflow_type)
        if definition is None:  # a store reopened by an engine that was not given it yet
            raise ScheduleSpecError(
                f"schedule {schedule.schedule_id!r} runs workflow {schedule.workflow_type!r}, "
                "which this engine does not know: pass it to engine.schedule() first"
            )
        started = start_event(definition, schedule.input, tick_attributes(schedule, run))
        engine._start_new(run.workflow_id, definition, schedule.input, started)

    def _close(self, workflow_id: str, *, terminate: bool) -> None:
        handle = self._engine.get(workflow_id)
        try:
            if terminate:
                handle.terminate("terminated by its schedule (overlap: terminate_other)")
            else:
                handle.cancel("cancelled by its schedule (overlap: cancel_other)")
        except WorkflowTerminalError:
            pass  # it ended meanwhile

    def _schedules(self) -> ScheduleBook:
        if self._book is None:
            table = getattr(self._engine.store, "schedules", None)
            self._book = ScheduleBook(table.list_schedules() if table else ())
        return self._book

    def _table(self) -> ScheduleTable:
        table: ScheduleTable = self._engine.store.schedules
        return table
