"""RunRecording: how a driver records its current run and collects what must follow. No I/O.

Every draft it is given is stamped by the workflow's Recorder and kept twice: in the run's
history segment, which a rebuilt run replays, and in the ``ActivationBuffer``, which the host's
pump appends. Recorded events are applied to the run at once; the commands the run answers
with are stamped in turn, and their effects (activity starts and cancels, child starts,
signal sends, wakes to arm or disarm) are collected behind them. It decides nothing about
arrivals: the driver says what to record, this records it and carries out the consequences.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from aion_ray.engine import effects as fx
from aion_ray.engine.activation import ActivationBuffer
from aion_ray.engine.recorder import EventDraft, Recorder, draft
from aion_ray.model import events as ev
from aion_ray.model.history import current_run, is_paused, run_deadline
from aion_ray.model.store import WakeKey
from aion_ray.runtime import commands as cmd
from aion_ray.runtime.run import WorkflowRun


def send_request_id(workflow_id: str, run_id: str, send_id: int) -> str:
    """The request id of a workflow's signal #``send_id``: the same however often it is sent."""
    return f"{workflow_id}:{run_id}:send-{send_id}"


class RunRecording:
    """The current run, its history segment, its activation buffer and its armed wakes."""

    def __init__(
        self,
        recorder: Recorder,
        history: Sequence[ev.Event],
        *,
        on_work: Callable[[], None],
        on_continue: Callable[[ev.WorkflowContinuedAsNew], None],
    ) -> None:
        self.recorder = recorder
        self.run: WorkflowRun | None = None
        self.pending = ActivationBuffer(head=recorder.head)
        self.segment: list[ev.Event] = list(current_run(history))
        self._on_work = on_work  # told when the buffer gets work: the host's pump then runs
        self._on_continue = on_continue  # starts the next run after a continue-as-new
        self._armed: set[WakeKey] = set()  # wakes asked of the host, not yet due
        self.paused = is_paused(self.segment)
        # What a pause holds back: attempts to start, children to launch (see ``hold``).
        self._held_attempts: list[int] = []
        self._held_children: list[cmd.StartChild] = []
        self._signal_requests = {
            e.request_id for e in self.segment if isinstance(e, ev.SignalReceived) and e.request_id
        }

    @property
    def is_open(self) -> bool:
        return self.recorder.is_open and self.run is not None and self.run.is_open

    def has_signal(self, request_id: str) -> bool:
        """Whether a signal with ``request_id`` was recorded already (a retried delivery)."""
        return request_id in self._signal_requests

    def begin(self, started: EventDraft, run_id: str) -> None:
        """Record a new run's WorkflowStarted as the first event of a fresh segment."""
        self.segment = []
        self.paused = False
        self.record([started], run_id=run_id)

    def deliver(self, drafts: list[EventDraft]) -> None:
        """Record ``drafts``, then apply them to the run."""
        self.activate(self.record(drafts))

    def record(self, drafts: list[EventDraft], run_id: str | None = None) -> list[ev.Event]:
        """Stamp ``drafts`` into the segment and the activation buffer; the stamped events."""
        recorded = self.recorder.stamp(drafts, run_id=run_id)
        self.segment.extend(recorded)
        if self.pending.is_empty:
            self._on_work()
        self.pending.events.extend(recorded)
        for event in recorded:
            if isinstance(event, ev.SignalReceived) and event.request_id:
                self._signal_requests.add(event.request_id)
        return recorded

    def effect(self, effect: fx.Effect) -> None:
        """Ask for ``effect``, to be performed once the events before it are durable."""
        if self.pending.is_empty:
            self._on_work()
        self.pending.effects.append(effect)

    def activate(self, new_events: Sequence[ev.Event]) -> None:
        """Apply ``new_events`` to the run; record and carry out the commands it answers with,
        until it asks for nothing more or closes."""
        assert self.run is not None
        commands = self.run.advance(new_events)
        while commands:
            drafts: list[EventDraft] = []
            for command in commands:
                drafts.append(command.to_event)
                if isinstance(command, cmd.ScheduleActivity) and not self.paused:
                    drafts.append(
                        draft(ev.ActivityStarted, activity_id=command.activity_id, attempt=1)
                    )
            recorded = self.record(drafts)
            if self._carry_out(commands, recorded):
                return
            commands = self.run.advance(recorded)

    def close(self, drafts: list[EventDraft]) -> None:
        """Record the engine's own end of the run (its last draft is the terminal event)."""
        recorded = self.record(drafts)
        self._after_close(recorded[-1])

    def start_attempt(self, activity_id: int) -> None:
        """Record the next attempt of a pending activity and ask for it to run."""
        assert self.run is not None
        trail = self.run.state.trail(activity_id)
        if trail is None or trail.done or trail.command is None:
            return
        if self.paused:
            self._held_attempts.append(activity_id)
            return
        attempt = trail.attempt + 1
        self.deliver([draft(ev.ActivityStarted, activity_id=activity_id, attempt=attempt)])
        if self.is_open:
            self.effect(fx.StartActivity(trail.command, attempt, self.recorder.run_id))
            self.arm_heartbeat(trail.command)

    def send(self, command: cmd.SendSignal) -> None:
        """Ask for a recorded signal to be sent; its request id lets the target spot a repeat."""
        request = send_request_id(self.recorder.workflow_id, self.recorder.run_id, command.send_id)
        self.effect(fx.SendSignal(command, request))

    def start_child(self, command: cmd.StartChild) -> None:
        """Ask for a recorded child to be launched (held back while paused)."""
        if self.paused:
            self._held_children.append(command)
        else:
            self.effect(fx.StartChild(command))

    # --- pause ---------------------------------------------------------------------------------

    def hold(self, reason: str) -> None:
        """Record WorkflowPaused: from now on no attempt starts and no child is launched (the
        run itself never sees the pause: it replays the same with or without it)."""
        self.record([draft(ev.WorkflowPaused, reason=reason)])
        self.paused = True

    def release(self) -> None:
        """Record WorkflowResumed, then start what the pause held back."""
        self.record([draft(ev.WorkflowResumed)])
        self.paused = False
        attempts, self._held_attempts = self._held_attempts, []
        children, self._held_children = self._held_children, []
        for activity_id in dict.fromkeys(attempts):
            self.start_attempt(activity_id)
        for command in children:
            self.effect(fx.StartChild(command))

    # --- wakes ---------------------------------------------------------------------------------

    def arm(self, key: WakeKey, at: datetime) -> None:
        self._armed.add(key)
        self.effect(fx.Arm(key, at))

    def disarm(self, key: WakeKey) -> None:
        if key in self._armed:
            self._armed.discard(key)
            self.effect(fx.Disarm(key))

    def take_wake(self, key: WakeKey) -> bool:
        """Whether ``key`` was armed; it no longer is (False: a stale or cancelled wake)."""
        if key not in self._armed:
            return False
        self._armed.discard(key)
        return True

    def arm_heartbeat(self, command: cmd.ScheduleActivity) -> None:
        timeout = command.options.heartbeat_timeout
        if timeout is not None:
            at = self.recorder.clock.now() + timedelta(seconds=timeout)
            self.arm(("heartbeat", command.activity_id), at)

    def arm_deadline(self) -> None:
        deadline = run_deadline(self.segment)
        if deadline is not None:
            self.arm(("deadline", 0), deadline)

    # --- internals -----------------------------------------------------------------------------

    def _carry_out(self, commands: Sequence[cmd.Command], recorded: Sequence[ev.Event]) -> bool:
        """Ask for the recorded commands' effects; True if one of them closed the run."""
        for command in commands:
            match command:
                case cmd.ScheduleActivity() if self.paused:
                    self._held_attempts.append(command.activity_id)
                case cmd.ScheduleActivity():
                    self.effect(fx.StartActivity(command, 1, self.recorder.run_id))
                    self.arm_heartbeat(command)
                case cmd.RequestCancelActivity():
                    self.disarm(("retry", command.activity_id))
                    self.disarm(("heartbeat", command.activity_id))
                    self.pending.local_cancelled(command.activity_id)
                    self.effect(fx.CancelActivity(command.activity_id, self.recorder.run_id))
                case cmd.StartTimer():
                    self.arm(("timer", command.timer_id), command.fire_at)
                case cmd.CancelTimer():
                    self.disarm(("timer", command.timer_id))
                case cmd.StartChild():
                    self.start_child(command)
                case cmd.SendSignal():
                    self.send(command)
        terminal = next((e for e in recorded if isinstance(e, ev.TERMINAL_EVENTS)), None)
        if terminal is not None:
            self._after_close(terminal)
        return terminal is not None

    def _after_close(self, terminal: ev.Event) -> None:
        assert self.run is not None
        for trail in self.run.outstanding().activities:
            activity_id = trail.scheduled.activity_id  # type: ignore[union-attr]
            self.effect(fx.CancelActivity(activity_id, self.recorder.run_id))
        for key in list(self._armed):
            self.disarm(key)
        self.pending.local_running.clear()
        self.run = None
        self.effect(fx.Closed(terminal))
        if isinstance(terminal, ev.WorkflowContinuedAsNew):
            self._on_continue(terminal)
