"""WorkflowRun: one run of a workflow, driven by its history. Events in, commands out.

``advance(new_events)`` applies events in history order; after each one the workflow code runs
on the deterministic loop until every task is blocked again. Durable calls become commands:
those the history already records resolve from it, the others are returned for the host to
record and carry out. The host feeds everything it records back through ``advance``, so the
run always sees its complete history in order. Pure Python: no Ray, no store, no clock.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
import gc
import hashlib
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.errors import InvalidInputError, NonDeterminismError, WorkflowUsageError
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.history import replayed_run
from aion_ray.model.payload import DEFAULT_MAX_PAYLOAD_BYTES, Payload
from aion_ray.runtime import commands as cmd
from aion_ray.runtime.cursor import HistoryCursor
from aion_ray.runtime.loop import DurableTimerHandle, WorkflowEventLoop
from aion_ray.runtime.mailbox import SignalMailbox
from aion_ray.runtime.queries import answer_query
from aion_ray.runtime.state import Outstanding, RunState

if TYPE_CHECKING:
    from aion_ray.runtime.context import WorkflowContext


class WorkflowRun:
    """Replays and continues one run; see the module docstring for the protocol."""

    def __init__(
        self,
        definition: WorkflowDefinition[Any],
        history: Sequence[ev.Event],
        *,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        fresh: bool = False,  # ``history`` is a new run's start: no code has seen it yet
    ) -> None:
        started = history[0] if history else None
        if not isinstance(started, ev.WorkflowStarted):
            raise InvalidInputError("a run's history must begin with its WorkflowStarted event")
        if started.workflow_type != definition.name:
            raise InvalidInputError(
                f"history of {started.workflow_id!r} is of workflow type "
                f"{started.workflow_type!r}, not {definition.name!r}"
            )
        self.definition = definition
        self.started = started
        self.cursor = HistoryCursor(started.workflow_id)
        self.state = RunState()
        self.signals = SignalMailbox()
        # The loop implements what workflow code may use; the rest of the abstract API (I/O,
        # subprocesses, signals) stays unimplemented on purpose.
        self.loop = WorkflowEventLoop(self, self._loop_time)  # type: ignore[abstract]
        self.now: datetime = started.recorded_at
        self.rng = random.Random(_seed(started, "user"))
        self.id_rng = random.Random(_seed(started, "ids"))
        self._ordinals: collections.Counter[str] = collections.Counter()
        self._queue: collections.deque[ev.Event] = collections.deque()
        self._replay_remaining = 0
        self._output: list[cmd.Command] = []
        self._main: asyncio.Task[None] | None = None
        self.closed: cmd.Command | None = None
        self.ended_by: ev.Event | None = None
        self.violation: NonDeterminismError | None = None
        self.in_query = False
        self.timer_name: str | None = None  # names the next durable timer (e.g. a wait's)
        self.max_payload_bytes = max_payload_bytes
        self.attempt = 1 + sum(isinstance(e, ev.WorkflowReopened) for e in history)
        self.context: WorkflowContext | None = None
        self.repeating = not fresh  # redoing what it did before (until it waits past history)
        self._take(replayed_run(history[1:]), replaying=True)

    # --- the host's interface ------------------------------------------------------------------

    def advance(self, new_events: Sequence[ev.Event] = ()) -> list[cmd.Command]:
        """Apply ``new_events`` (after anything not yet applied) and run the code; return the
        commands the host must record and carry out, in order."""
        self._take(new_events, replaying=False)
        if self._main is None and self.is_open:
            self._start_main()
        # Pause the cyclic garbage collector while a long history replays: replay allocates
        # in a burst while the history it walks is large, so every full collection would
        # traverse that whole history again (a 10,000-activity replay ran ~25% faster).
        pause = self._replay_remaining > _LONG_REPLAY and gc.isenabled()
        if pause:
            gc.disable()
        try:
            self._drain()
        finally:
            if pause:
                gc.enable()
        output, self._output = self._output, []
        return output

    @property
    def is_open(self) -> bool:
        """Whether the run can still make progress (no close command, no engine terminal)."""
        return self.closed is None and self.ended_by is None and self.violation is None

    @property
    def is_replaying(self) -> bool:
        """Whether history recorded before this run was (re)built is still being replayed."""
        return self._replay_remaining > 0 or self.cursor.has_unmatched_history

    def query(self, name: str, args: Sequence[Any] = ()) -> Any:
        """Answer a query with the handler the workflow registered; never changes the run."""
        return answer_query(self, name, args)

    def outstanding(self) -> Outstanding:
        """Work the history says is in flight (activities, timers, children) for re-arming."""
        return self.state.outstanding()

    # --- commands from the workflow code -------------------------------------------------------

    def next_ordinal(self, kind: str) -> int:
        self._ordinals[kind] += 1
        return self._ordinals[kind]

    def issue(self, command: cmd.Command) -> ev.Event | None:
        """Match ``command`` to history (returning its recorded event) or emit it live, and
        remember what an activity or child command will run."""
        if self.closed is not None:
            return None  # tasks torn down after the run ended: nothing more is recorded
        if self.in_query:
            raise WorkflowUsageError(
                f"{command.describe()} inside a query handler: handlers are read-only"
            )
        try:
            recorded = self.cursor.issue(command)
        except NonDeterminismError as exc:
            self.violation = self.violation or exc
            raise
        if recorded is None:
            self._output.append(command)
        if isinstance(command, cmd.ScheduleActivity):
            self.state.bind_activity(command)  # the host needs the function to run it
        elif isinstance(command, cmd.StartChild):
            self.state.bind_child(command)
        return recorded

    def recorded_event(self, key: cmd.Key) -> ev.Event | None:
        """The recorded, not yet matched command event with ``key`` (replay reuses its input)."""
        return self.cursor.recorded_event(key)

    def knows(self, key: cmd.Key) -> bool:
        """Whether history holds a not yet matched command event with ``key``."""
        return self.cursor.knows(key)

    def take_signal(self, name: str) -> asyncio.Future[Payload]:
        """A future for the next signal named ``name`` (FIFO, early arrivals first)."""
        return self.signals.take(name, self.loop)

    def pending_work(self) -> int:
        """How many activities and child workflows the code still waits for."""
        return self.state.pending_count(("activity", "child"))

    def wait_for(self, kind: str, item_id: int) -> asyncio.Future[ev.Event]:
        """A future resolved with the outcome event of activity/child ``item_id``."""
        return self.state.waiter(kind, item_id, self.loop)

    # --- the loop's timer hook -----------------------------------------------------------------

    def start_timer(
        self,
        delay: float,
        callback: Callable[..., object],
        args: tuple[object, ...],
        context: contextvars.Context | None,
    ) -> DurableTimerHandle:
        timer_id = self.next_ordinal("timer")
        fire_at = self.now + timedelta(seconds=delay)
        name = self.timer_name or (
            "sleep"
            if getattr(callback, "__name__", "") == "_set_result_unless_cancelled"
            else "timeout"
        )
        self.timer_name = None
        handle = DurableTimerHandle(
            timer_id, fire_at.timestamp(), callback, args, self.loop, context
        )
        self.state.timers[timer_id] = handle
        self.issue(cmd.StartTimer(timer_id, fire_at, name))
        return handle

    def timer_cancelled(self, handle: DurableTimerHandle) -> None:
        timer_id = handle.timer_id
        if self.state.timers.pop(timer_id, None) is not None and self.is_open:
            self.issue(cmd.CancelTimer(timer_id))

    # --- internals -----------------------------------------------------------------------------

    def _loop_time(self) -> float:
        return self.now.timestamp()

    def _take(self, events: Sequence[ev.Event], *, replaying: bool) -> None:
        for event in events:
            self.cursor.record(event)
            self.state.note_command_event(event)
            self._queue.append(event)
        if replaying:
            self._replay_remaining += len(events)

    def _start_main(self) -> None:
        from aion_ray.runtime.main_task import run_main  # noqa: PLC0415 - main imports the context, which imports us

        self._main = self.loop.create_task(
            run_main(self), name=f"workflow {self.started.workflow_id}"
        )

    def _drain(self) -> None:
        while True:
            if self.loop.has_ready:
                self.loop.run_ready()
            if self.violation is not None:
                if not isinstance(self.closed, cmd.FailWorkflow):
                    self._fail_on_violation(self.violation)
                return
            if not self._queue or not self.is_open:
                self.repeating = self.repeating and self._replay_remaining > 0
                return
            event = self._queue.popleft()
            if self._replay_remaining:
                self._replay_remaining -= 1
            else:
                self.repeating = False
            self._apply(event)

    def _apply(self, event: ev.Event) -> None:
        self.now = event.recorded_at
        try:
            self.cursor.check_passed(event)
        except NonDeterminismError as exc:
            self.violation = self.violation or exc
            return
        kind = type(event)
        if kind is ev.SignalReceived:
            signal: ev.SignalReceived = event  # type: ignore[assignment] # narrowed by type()
            self.signals.deliver(signal.name, signal.payload)
        elif kind is ev.WorkflowCancelRequested:
            self._request_cancel(event.reason)  # type: ignore[union-attr] # narrowed by type()
        elif kind is ev.WorkflowTimedOut or kind is ev.WorkflowTerminated:
            self.ended_by = event
        else:
            self.state.apply_outcome(event, self.loop)

    def _request_cancel(self, reason: str) -> None:
        self.state.cancel_reason = reason or "cancelled"
        if self._main is not None and not self._main.done():
            self._main.cancel(msg=self.state.cancel_reason)

    def close(self, command: cmd.Command) -> None:
        """Record how the run ended (called once, by the main task's wrapper)."""
        if not self.is_open:
            return
        try:
            self.issue(command)
        except NonDeterminismError:
            return
        self.closed = command
        self._tear_down_tasks()

    def _tear_down_tasks(self) -> None:
        """Cancel the tasks still pending when the run ended, so none is left half-run."""
        # Their cancellations run in the loop right after the current callback; whatever
        # they still ask for is dropped (``issue`` records nothing once the run is closed).
        current = asyncio.current_task(self.loop)
        for task in asyncio.all_tasks(self.loop):
            if task is not current:
                task.cancel()

    def _fail_on_violation(self, violation: NonDeterminismError) -> None:
        # The run fails whatever the code did after the divergence; nothing else is recorded.
        failure = cmd.FailWorkflow(ErrorInfo(type=type(violation).__name__, message=str(violation)))
        self._output = [failure]
        self.closed = failure
        for task in asyncio.all_tasks(self.loop):
            task.cancel()
        self.loop.run_ready()  # let the tasks unwind; nothing they ask for is recorded
        self.loop.close()


_LONG_REPLAY = 1_000


def _seed(started: ev.WorkflowStarted, stream: str) -> int:
    digest = hashlib.sha256(f"{started.workflow_id}\0{started.run_id}\0{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "big")
