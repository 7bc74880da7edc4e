"""WorkflowContext: everything workflow code may do, deterministic and replay-safe.

Each durable call is a command matched against history first (see ``aion_ray.runtime.run``); the
rest (``now``, ``random``, ``uuid4``, ``info``) derive from recorded facts only.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, overload

from aion_ray.authoring.definitions import ActivityDefinition, WorkflowDefinition, define_activity
from aion_ray.errors import ActivityError, InvalidInputError, WorkflowUsageError
from aion_ray.model import events as ev
from aion_ray.model.ids import validate_workflow_id
from aion_ray.model.payload import decode, encode
from aion_ray.model.visibility import checked_search_attributes
from aion_ray.runtime import commands as cmd
from aion_ray.runtime.arguments import checked_name, checked_seconds
from aion_ray.runtime.children import ChildHandle
from aion_ray.runtime.logger import WorkflowLogger
from aion_ray.runtime.run_access import RunAccess

T = TypeVar("T")


@dataclass(frozen=True)
class WorkflowRunInfo:
    """Facts about the current run. ``attempt`` counts how often it was (re)opened."""

    workflow_id: str
    run_id: str
    workflow_type: str
    attempt: int
    started_at: datetime
    continued_from: str | None
    parent_workflow_id: str | None


class ContinueAsNewRequested(BaseException):
    """Unwinds the workflow so the run ends with continue-as-new (BaseException, so a broad
    ``except Exception`` in workflow code cannot swallow it)."""

    def __init__(self, arg: object) -> None:
        super().__init__("continue as new")
        self.arg = arg


class WorkflowContext:
    """The ``ctx`` handed to every workflow function."""

    def __init__(self, run: RunAccess, attempt: int = 1) -> None:
        self._run = run
        self._handlers: dict[str, Callable[..., Any]] = {}
        self._patches: dict[str, bool] = {}
        started = run.started
        self.info = WorkflowRunInfo(
            workflow_id=started.workflow_id,
            run_id=started.run_id,
            workflow_type=started.workflow_type,
            attempt=attempt,
            started_at=started.recorded_at,
            continued_from=started.parent_run_id,
            parent_workflow_id=started.parent.workflow_id if started.parent else None,
        )
        self.logger = WorkflowLogger(run)
        """A logger for workflow code: its records carry ``workflow_id``, ``run_id`` and
        ``workflow_type``, and a replay does not write again what the run wrote before."""

    # --- activities ----------------------------------------------------------------------------

    @overload
    async def run(
        self,
        fn: Callable[..., Coroutine[Any, Any, T]] | ActivityDefinition[Any, Coroutine[Any, Any, T]],
        *args: Any,
        **options: Any,
    ) -> T: ...
    @overload
    async def run(
        self, fn: Callable[..., T] | ActivityDefinition[Any, T], *args: Any, **options: Any
    ) -> T: ...
    async def run(self, fn: Any, *args: Any, **options: Any) -> Any:
        """Run an activity (a Ray task, or in the workflow actor with ``local=True``)."""
        self._check_usable("ctx.run")
        definition = fn if isinstance(fn, ActivityDefinition) else define_activity(fn)
        activity_options = definition.with_options(**options)
        definition.check_arguments(args)
        run = self._run
        activity_id = run.next_ordinal("activity")
        # When history already holds this activity its recorded input is reused: replay
        # skips re-encoding (the same code encoded the same arguments when it was recorded).
        recorded = run.recorded_event(("activity", activity_id))
        if isinstance(recorded, ev.ActivityScheduled):
            payload = recorded.input
        else:
            payload = encode(
                list(args),
                codec=activity_options.codec,
                max_bytes=run.max_payload_bytes,
                what=f"input of activity {definition.name}",
            )
        outcome = run.wait_for("activity", activity_id)
        command = cmd.ScheduleActivity(
            activity_id, definition.name, payload, activity_options, definition
        )
        run.issue(command)
        try:
            event = await outcome
        except asyncio.CancelledError:
            # Cancelling this task cancelled ``outcome`` too: the activity has no result yet.
            if outcome.cancelled() and run.is_open:
                run.issue(cmd.RequestCancelActivity(activity_id))
            raise
        if isinstance(event, ev.ActivityFailed):
            raise ActivityError(definition.name, activity_id, event.attempt, event.error)
        assert isinstance(event, ev.ActivityCompleted)
        return decode(event.result, definition.result_type, what=f"result of {definition.name}")

    # --- time ----------------------------------------------------------------------------------

    async def sleep(self, duration: float | timedelta) -> None:
        """A durable timer: survives restarts; ``asyncio.sleep`` in a workflow is the same."""
        self._check_usable("ctx.sleep")
        await asyncio.sleep(checked_seconds(duration))

    def now(self) -> datetime:
        """The recorded time of the latest event this run has consumed (aware UTC)."""
        return self._run.now

    def random(self) -> float:
        """A deterministic random float in [0, 1), seeded from the workflow and run ids."""
        self._check_not_in_query("ctx.random")
        return self._run.rng.random()

    def uuid4(self) -> uuid.UUID:
        """A deterministic random UUID (version 4), seeded from the workflow and run ids."""
        self._check_not_in_query("ctx.uuid4")
        return uuid.UUID(int=self._run.rng.getrandbits(128), version=4)

    # --- signals and queries -------------------------------------------------------------------

    async def wait_signal(
        self, name: str, timeout: float | timedelta | None = None, *, result_type: Any = Any
    ) -> Any:
        """The next signal named ``name`` (FIFO); a timeout raises ``asyncio.TimeoutError``."""
        self._check_usable("ctx.wait_signal")
        name = checked_name(name, "a signal name")
        seconds = None if timeout is None else checked_seconds(timeout)
        future = self._run.take_signal(name)
        if seconds is None or future.done():
            payload = await future
        else:
            self._run.timer_name = f"wait_signal:{name}"
            try:
                payload = await asyncio.wait_for(future, seconds)
            finally:
                self._run.timer_name = None
        return decode(payload, result_type, what=f"signal {name!r}")

    def set_query_handler(self, name: str, handler: Callable[..., Any]) -> None:
        """Answer queries named ``name`` with ``handler`` (read-only; durable calls fail)."""
        if not callable(handler):
            raise InvalidInputError(f"query handler for {name!r} must be callable")
        self._handlers[name] = handler

    @property
    def query_handlers(self) -> Mapping[str, Callable[..., Any]]:
        return self._handlers

    async def signal_workflow(self, workflow_id: str, name: str, payload: Any = None) -> None:
        """Send a signal to another workflow; recorded, so it is sent once per history."""
        self._check_usable("ctx.signal_workflow")
        target = validate_workflow_id(workflow_id)
        name = checked_name(name, "a signal name")
        encoded = encode(payload, max_bytes=self._run.max_payload_bytes, what=f"signal {name!r}")
        send_id = self._run.next_ordinal("send")
        self._run.issue(cmd.SendSignal(send_id, target, name, encoded))

    # --- child workflows -----------------------------------------------------------------------

    def start_child(
        self, workflow: WorkflowDefinition[T], arg: Any = None, *, id: str | None = None
    ) -> ChildHandle[T]:
        """Start a child workflow; await the handle for its result."""
        self._check_usable("ctx.start_child")
        if not isinstance(workflow, WorkflowDefinition):
            raise InvalidInputError(f"start_child needs an @aion.workflow, got {workflow!r}")
        run = self._run
        child_id = run.next_ordinal("child")
        child_workflow_id = (
            validate_workflow_id(id)
            if id is not None
            else (f"{self.info.workflow_id}/child-{uuid.UUID(int=run.id_rng.getrandbits(128))}")
        )
        payload = encode(
            arg,
            codec=workflow.codec,
            annotation=workflow.input_type,
            max_bytes=run.max_payload_bytes,
            what=f"input of child workflow {workflow.name}",
        )
        child_run_id = str(uuid.UUID(int=run.id_rng.getrandbits(128), version=4))
        outcome = run.wait_for("child", child_id)
        command = cmd.StartChild(
            child_id, child_workflow_id, child_run_id, workflow.name, payload, workflow
        )
        recorded = run.issue(command)
        if isinstance(recorded, ev.ChildWorkflowStarted):
            child_workflow_id, child_run_id = recorded.child_workflow_id, recorded.child_run_id
        return ChildHandle(child_workflow_id, child_run_id, workflow, outcome)

    async def run_child(
        self, workflow: WorkflowDefinition[T], arg: Any = None, *, id: str | None = None
    ) -> T:
        """Start a child workflow and wait for its result."""
        return await self.start_child(workflow, arg, id=id)

    # --- lifecycle and versioning --------------------------------------------------------------

    def continue_as_new(self, arg: Any = None) -> None:
        """End this run and start the next run of the same workflow id with ``arg``."""
        self._check_usable("ctx.continue_as_new")
        pending = self._run.pending_work()
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks(self._run.loop) if t is not current]
        if pending or tasks:
            raise WorkflowUsageError(
                f"continue_as_new with work still pending ({pending} activities or child "
                f"workflows, {len(tasks)} other tasks): await or cancel it first"
            )
        raise ContinueAsNewRequested(arg)

    def patched(self, change_id: str) -> bool:
        """True on runs that took the new code path; replaying older runs gives False."""
        self._check_usable("ctx.patched")
        change_id = checked_name(change_id, "a patch id")
        if change_id not in self._patches:
            key = ("marker", "patch", change_id)
            taken = self._run.knows(key) or not self._run.is_replaying
            if taken:
                self._run.issue(cmd.RecordMarker("patch", change_id))
            self._patches[change_id] = taken
        return self._patches[change_id]

    def upsert_search_attributes(self, attributes: Mapping[str, ev.SearchAttributeValue]) -> None:
        """Merge ``attributes`` into the workflow's search attributes (recorded)."""
        self._check_usable("ctx.upsert_search_attributes")
        checked = checked_search_attributes(attributes)
        self._run.issue(cmd.UpsertSearchAttributes(self._run.next_ordinal("upsert"), checked))

    def _check_not_in_query(self, what: str) -> None:
        if self._run.in_query:
            raise WorkflowUsageError(f"{what} inside a query handler: handlers are read-only")

    def _check_usable(self, what: str) -> None:
        if self._run.in_query:
            raise WorkflowUsageError(f"{what} inside a query handler: handlers are read-only")
        if asyncio.events._get_running_loop() is not self._run.loop:
            raise WorkflowUsageError(f"{what} can only be called from this workflow's own code")
