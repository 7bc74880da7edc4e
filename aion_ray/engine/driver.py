"""WorkflowDriver: one workflow's arrivals in, activations out. It does no I/O.

The driver owns a workflow's Recorder and hosts its current run. An arrival (a start, a
signal, an activity's outcome, a timer, a child's outcome, a cancel) is checked against the
run here and handed to the driver's ``RunRecording``, which stamps it as an event, applies it
to the run at once, stamps the commands the run returns in turn and collects their effects.
All of it waits in the ``ActivationBuffer`` until the host's pump takes it as one activation,
appends its events in one write, and only then performs its effects: record before dispatch,
record before deliver, one durable write per activation. The run may have seen events that
are not durable yet; if the append fails, the host throws the driver away and rebuilds it
from the stored history, so nothing it saw is lost or kept. Retries follow the activity's
RetryPolicy with the attempt trail in history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.engine import effects as fx
from aion_ray.engine.activation import Activation, ActivationBuffer
from aion_ray.engine.hold import Hold
from aion_ray.engine.outcomes import (
    attempt_ended,
    child_command,
    child_outcome,
    interrupted,
    terminal_status,
)
from aion_ray.engine.recorder import EventDraft, Recorder, draft
from aion_ray.engine.recording import RunRecording
from aion_ray.errors import QueryError, WorkflowTerminalError
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.lease import Lease
from aion_ray.model.payload import Payload
from aion_ray.model.store import WakeKey
from aion_ray.runtime import commands as cmd
from aion_ray.runtime.run import WorkflowRun
from aion_ray.runtime.state import Outstanding


class WorkflowDriver:
    """Hosts the current run of one workflow id; see the module docstring."""

    def __init__(
        self,
        definition: WorkflowDefinition[Any],
        recorder: Recorder,
        history: Sequence[ev.Event],
        *,
        lease: Lease | None = None,
        on_work: Callable[[WorkflowDriver], None] = lambda driver: None,
    ) -> None:
        self.definition = definition
        self.recorder = recorder
        self.workflow_id = recorder.workflow_id
        self.lease = lease
        """The lease its appends are made under; None until its first activation took one."""
        self.recording = RunRecording(
            recorder,
            history,
            on_work=lambda: on_work(self),
            on_continue=self._start_next_run,
        )
        self.pending: ActivationBuffer = self.recording.pending
        self._on_work = on_work
        self.hold = Hold(self)
        """An operator's pause and resume of the run."""

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self, started: EventDraft, run_id: str) -> None:
        """Begin a new workflow's first run with its WorkflowStarted event."""
        self.recording.begin(started, run_id)
        self.resume(fresh=True)

    def resume(self, *, fresh: bool = False) -> None:
        """(Re)build the current run from history, then re-arm whatever it has in flight
        (``fresh``: the run has just begun, its code has not run before)."""
        if not self.recorder.is_open:
            return
        recorded_before = self.recorder.head
        self.recording.run = WorkflowRun(self.definition, self.recording.segment, fresh=fresh)
        self._on_work(self)  # a resumed driver's first activation takes its lease
        self.recording.activate(())
        if self.run is not None and self.run.is_open:
            self._rearm(self.run.outstanding().recorded_up_to(recorded_before))
            self.recording.arm_deadline()

    def rebuild_run(self) -> None:
        """Throw the run away and replay it from history, keeping in-flight effects."""
        if self.recorder.is_open:
            self.recording.run = WorkflowRun(self.definition, self.recording.segment)
            self.recording.activate(())

    @property
    def run(self) -> WorkflowRun | None:
        """The current run; None before it is built and once it has ended."""
        return self.recording.run

    @property
    def is_open(self) -> bool:
        return self.recording.is_open

    @property
    def started(self) -> ev.WorkflowStarted | None:
        """The current run's WorkflowStarted event."""
        segment = self.recording.segment
        first = segment[0] if segment else None
        return first if isinstance(first, ev.WorkflowStarted) else None

    def take_activation(self) -> Activation:
        """The buffered events and effects as one activation, to append and then perform."""
        return self.pending.take(self.workflow_id)

    # --- arrivals from the outside -------------------------------------------------------------

    def signal(self, name: str, payload: Payload, request_id: str | None = None) -> bool:
        """Record a signal, then deliver it; False if ``request_id`` was already recorded."""
        if not self.recorder.is_open:
            raise self.terminal_error("signal")
        if request_id is not None and self.recording.has_signal(request_id):
            return False
        self.pending.urgent = True
        signal = draft(ev.SignalReceived, name=name, payload=payload, request_id=request_id)
        self.recording.deliver([signal])
        return True

    def cancel(self, reason: str) -> bool:
        """Request cancellation; False if the run already ended."""
        if not self.is_open:
            return False
        assert self.run is not None
        if self.run.state.cancel_reason is None:
            self.pending.urgent = True
            self.recording.deliver([draft(ev.WorkflowCancelRequested, reason=reason)])
        return True

    def terminate(self, reason: str) -> None:
        """End the run at once: the code sees nothing, its attempts are cancelled, its wakes
        disarmed. WorkflowTerminalError (naming the status) if it already ended."""
        if not self.is_open:
            raise self.terminal_error("terminate")
        self.pending.urgent = True
        self.recording.close([draft(ev.WorkflowTerminated, reason=reason)])

    def query(self, name: str, args: Sequence[Any] = ()) -> Any:
        if not self.is_open or self.run is None:
            raise QueryError(self.workflow_id, name, "the workflow is not running")
        return self.run.query(name, args)

    def activity_finished(
        self,
        activity_id: int,
        attempt: int,
        result: Payload | None,
        error: ErrorInfo | None,
        *,
        retry_now: bool = False,
    ) -> None:
        """An attempt ended: record its result, or retry/fail it per its RetryPolicy
        (``retry_now`` skips the backoff, for attempts lost to a host crash)."""
        trail = self.run.state.trail(activity_id) if self.is_open and self.run else None
        if trail is None or trail.done or trail.attempt != attempt:
            return  # a late report for a cancelled, superseded or finished attempt
        self.recording.disarm(("heartbeat", activity_id))
        now = self.recorder.clock.now()
        if (activity_id, attempt) in self.pending.local_running:
            self.pending.local_finished(activity_id, attempt, now)
        elif not retry_now:
            self.pending.urgent = True  # a remote result: record it now
        ended = attempt_ended(trail, activity_id, attempt, result, error, retry_now, now)
        self.recording.deliver([ended.event])
        if ended.retry_at is None:
            return
        if retry_now:
            self.recording.start_attempt(activity_id)
        else:
            self.recording.arm(("retry", activity_id), ended.retry_at)

    def activity_heartbeat(self, activity_id: int, attempt: int, details: Payload | None) -> None:
        """A running attempt said it is alive: record it and restart its heartbeat timeout."""
        trail = self.run.state.trail(activity_id) if self.is_open and self.run else None
        if trail is None or trail.done or trail.attempt != attempt or trail.command is None:
            return
        beat = draft(
            ev.ActivityHeartbeat, activity_id=activity_id, attempt=attempt, details=details
        )
        self.recording.deliver([beat])
        self.recording.arm_heartbeat(trail.command)

    def child_finished(self, child_id: int, terminal: ev.Event) -> None:
        """A child workflow this run started has ended; record its outcome, then deliver."""
        if not self.is_open or self.run is None:
            return
        outcome = child_outcome(self.run.outstanding(), child_id, terminal)
        if outcome is not None:
            self.pending.urgent = True
            self.recording.deliver([outcome])

    def child_not_started(self, child_id: int, error: ErrorInfo) -> None:
        """A child this run recorded could not be started (e.g. its id is taken)."""
        if not self.is_open or self.run is None:
            return
        child = next((c for c in self.run.outstanding().children if c.child_id == child_id), None)
        if child is not None:
            self.pending.urgent = True
            failed = draft(
                ev.ChildWorkflowFailed,
                child_id=child_id,
                child_workflow_id=child.child_workflow_id,
                error=error,
            )
            self.recording.deliver([failed])

    def wake(self, key: WakeKey) -> None:
        """A wake armed through an ``Arm`` effect fell due."""
        if not self.is_open or not self.recording.take_wake(key):
            return  # stale: the run ended, or the timer was cancelled, since it was armed
        if not self.hold.keeps(key):
            self.fire(key)

    def fire(self, key: WakeKey) -> None:
        """Deliver a wake that fell due (and was not held by a pause)."""
        self.pending.urgent = True
        kind, item = key
        if kind == "timer":
            self.recording.deliver([draft(ev.TimerFired, timer_id=item)])
        elif kind == "retry":
            self.recording.start_attempt(item)
        elif kind == "heartbeat":
            self._heartbeat_missed(item)
        elif kind == "deadline":
            timeout = self.recording.segment[0].execution_timeout  # type: ignore[union-attr]
            self.recording.close(
                [draft(ev.WorkflowTimedOut, timeout=f"execution timeout {timeout}s")]
            )

    # --- internals -----------------------------------------------------------------------------

    def _start_next_run(self, ended: ev.WorkflowContinuedAsNew) -> None:
        previous = self.recording.segment[0]
        assert isinstance(previous, ev.WorkflowStarted)
        started = draft(
            ev.WorkflowStarted,
            workflow_type=ended.workflow_type,
            input=ended.input,
            parent_run_id=ended.run_id,
            parent=previous.parent,
            code_fingerprint=self.definition.fingerprint,
            execution_timeout=previous.execution_timeout,
        )
        self.start(started, ended.next_run_id)

    def _heartbeat_missed(self, activity_id: int) -> None:
        """The attempt stayed silent past its heartbeat timeout: stop it, fail it (retried
        per its RetryPolicy)."""
        trail = self.run.state.trail(activity_id) if self.run is not None else None
        if trail is None or trail.done or trail.command is None:
            return
        self.recording.effect(fx.CancelActivity(activity_id, self.recorder.run_id))
        timeout = trail.command.options.heartbeat_timeout
        error = ErrorInfo(type="HeartbeatTimeout", message=f"no heartbeat for {timeout}s")
        self.activity_finished(activity_id, trail.attempt, None, error)

    def _rearm(self, outstanding: Outstanding) -> None:
        recording = self.recording
        for timer in outstanding.timers:
            recording.arm(("timer", timer.timer_id), timer.fire_at)
        for child in outstanding.children:
            command = self.run.state.child_command(child.child_id) if self.run else None
            recording.start_child(child_command(child, command))
        for sent in outstanding.sends:
            # Delivery may not have happened before the host stopped; the target recognises
            # a repeat by the send's request id.
            recording.send(
                cmd.SendSignal(sent.send_id, sent.target_workflow_id, sent.name, sent.payload)
            )
        for trail in outstanding.activities:
            activity_id = trail.scheduled.activity_id  # type: ignore[union-attr]
            if trail.retry_at is not None:
                recording.arm(("retry", activity_id), trail.retry_at)
            elif trail.attempt == 0:
                recording.start_attempt(activity_id)
            else:
                error = interrupted(trail.attempt)
                self.activity_finished(activity_id, trail.attempt, None, error, retry_now=True)

    def terminal_error(self, operation: str) -> WorkflowTerminalError:
        terminal = self.recorder.terminal
        return WorkflowTerminalError(
            self.workflow_id, self.recorder.run_id, terminal_status(terminal), operation
        )
