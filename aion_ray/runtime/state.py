"""Bookkeeping of one run: who waits for which outcome, and what is still in flight.

``RunState`` resolves activity and child futures when their outcome events are applied, fires
durable timer handles, and keeps the trail of every activity (attempts, retry time) so a host
that rebuilds the run knows what to re-dispatch, re-arm or keep watching.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aion_ray.model import events as ev
from aion_ray.runtime.commands import ScheduleActivity, StartChild
from aion_ray.runtime.loop import DurableTimerHandle

INTERRUPTED = "ActivityInterruptedError"
"""The error type recorded for an attempt whose host stopped before its result was recorded."""


@dataclass
class ActivityTrail:
    """Where one activity stands according to history, and the command that asked for it."""

    scheduled: ev.ActivityScheduled | None
    command: ScheduleActivity | None = None
    attempt: int = 0
    failures: int = 0
    retry_at: datetime | None = None
    done: bool = False
    started_at: datetime | None = None
    """When the current attempt was recorded as started (its latency counts from there)."""


@dataclass(frozen=True)
class Outstanding:
    """In-flight work recorded in history: re-dispatch, re-arm or watch it after a rebuild."""

    activities: tuple[ActivityTrail, ...] = ()
    timers: tuple[ev.TimerStarted, ...] = ()
    children: tuple[ev.ChildWorkflowStarted, ...] = ()
    sends: tuple[ev.SignalSent, ...] = ()

    def recorded_up_to(self, seq: int) -> Outstanding:
        """Only the work whose scheduling event has a seq of at most ``seq``."""
        return Outstanding(
            activities=tuple(a for a in self.activities if a.scheduled and a.scheduled.seq <= seq),
            timers=tuple(t for t in self.timers if t.seq <= seq),
            children=tuple(c for c in self.children if c.seq <= seq),
            sends=tuple(s for s in self.sends if s.seq <= seq),
        )


@dataclass
class RunState:
    timers: dict[int, DurableTimerHandle] = field(default_factory=dict)
    cancel_reason: str | None = None
    _waiters: dict[tuple[str, int], asyncio.Future[ev.Event]] = field(default_factory=dict)
    _activities: dict[int, ActivityTrail] = field(default_factory=dict)
    _timer_events: dict[int, ev.TimerStarted] = field(default_factory=dict)
    _children: dict[int, ev.ChildWorkflowStarted] = field(default_factory=dict)
    _child_commands: dict[int, StartChild] = field(default_factory=dict)
    _sends: list[ev.SignalSent] = field(default_factory=list)

    def waiter(
        self, kind: str, item_id: int, loop: asyncio.AbstractEventLoop
    ) -> asyncio.Future[ev.Event]:
        future: asyncio.Future[ev.Event] = loop.create_future()
        self._waiters[(kind, item_id)] = future
        return future

    def note_command_event(self, event: ev.Event) -> None:
        """Track recorded command events that start or end in-flight work."""
        # Dispatch on the exact type: isinstance on pydantic models is slow, and replay is hot.
        handler = _COMMAND_EVENTS.get(type(event))
        if handler is not None:
            handler(self, event)

    def apply_outcome(self, event: ev.Event, loop: asyncio.AbstractEventLoop) -> None:
        """Apply an outcome event: resolve its waiter or fire its timer."""
        handler = _OUTCOMES.get(type(event))
        if handler is not None:
            handler(self, event, loop)

    def _scheduled(self, event: ev.ActivityScheduled) -> None:
        trail = self._activities.setdefault(event.activity_id, ActivityTrail(event))
        trail.scheduled = event

    def _timer_started(self, event: ev.TimerStarted) -> None:
        self._timer_events[event.timer_id] = event

    def _forget_timer(self, timer_id: int) -> None:
        self._timer_events.pop(timer_id, None)

    def _child_started(self, event: ev.ChildWorkflowStarted) -> None:
        self._children[event.child_id] = event

    def _activity_started(self, event: ev.ActivityStarted, _: object) -> None:
        self._trail(event.activity_id, attempt=event.attempt, retry_at=None)
        if (trail := self._activities.get(event.activity_id)) is not None:
            trail.started_at = event.recorded_at

    def _activity_ended(self, event: ev.ActivityCompleted | ev.ActivityFailed, _: object) -> None:
        if isinstance(event, ev.ActivityFailed) and not event.terminal:
            self._trail(event.activity_id, attempt=event.attempt, retry_at=event.retry_at)
            self._count_failure(event)
            return
        self._finish_activity(event.activity_id)
        self._resolve(("activity", event.activity_id), event)

    def _child_ended(
        self, event: ev.ChildWorkflowCompleted | ev.ChildWorkflowFailed, _: object
    ) -> None:
        self._children.pop(event.child_id, None)
        self._resolve(("child", event.child_id), event)

    def _timer_fired(self, event: ev.TimerFired, loop: asyncio.AbstractEventLoop) -> None:
        self._fire(event.timer_id, loop)

    def _fire(self, timer_id: int, loop: asyncio.AbstractEventLoop) -> None:
        self._timer_events.pop(timer_id, None)
        handle = self.timers.pop(timer_id, None)
        if handle is not None and not handle.cancelled():
            loop.call_soon(handle.fire_callback, *handle.fire_args, context=handle.fire_context)

    def bind_activity(self, command: ScheduleActivity) -> None:
        """Remember the command (and so the function) behind an activity id."""
        trail = self._activities.setdefault(command.activity_id, ActivityTrail(None))
        trail.command = command

    def bind_child(self, command: StartChild) -> None:
        self._child_commands[command.child_id] = command

    def child_command(self, child_id: int) -> StartChild | None:
        return self._child_commands.get(child_id)

    def trail(self, activity_id: int) -> ActivityTrail | None:
        return self._activities.get(activity_id)

    def outstanding(self) -> Outstanding:
        return Outstanding(
            activities=tuple(
                t for t in self._activities.values() if not t.done and t.scheduled is not None
            ),
            timers=tuple(self._timer_events.values()),
            children=tuple(self._children.values()),
            sends=tuple(self._sends),
        )

    def pending_count(self, kinds: Sequence[str]) -> int:
        """How many activities/children the code still waits for."""
        return sum(1 for (kind, _), f in self._waiters.items() if kind in kinds and not f.done())

    def _trail(self, activity_id: int, *, attempt: int, retry_at: datetime | None) -> None:
        trail = self._activities.get(activity_id)
        if trail is not None:
            trail.attempt, trail.retry_at = attempt, retry_at

    def _count_failure(self, event: ev.ActivityFailed) -> None:
        # An attempt lost to a host crash is not the activity's failure: no extra backoff.
        trail = self._activities.get(event.activity_id)
        if trail is not None and event.error.type != INTERRUPTED:
            trail.failures += 1

    def _reopened(self, event: ev.WorkflowReopened, _: object) -> None:
        """The activities a reopen names start a fresh retry budget (their attempt numbers
        go on)."""
        for activity_id in event.reopened_activities:
            trail = self._activities.get(activity_id)
            if trail is not None:
                trail.failures = 0

    def _finish_activity(self, activity_id: int) -> None:
        trail = self._activities.get(activity_id)
        if trail is not None:
            trail.done = True

    def _resolve(self, key: tuple[str, int], event: ev.Event) -> None:
        future = self._waiters.pop(key, None)
        if future is not None and not future.done():
            future.set_result(event)


_COMMAND_EVENTS: dict[type[ev.EventBase], Callable[[RunState, Any], None]] = {
    ev.ActivityScheduled: RunState._scheduled,
    ev.ActivityCancelled: lambda state, event: state._finish_activity(event.activity_id),
    ev.TimerStarted: RunState._timer_started,
    ev.TimerCancelled: lambda state, event: state._forget_timer(event.timer_id),
    ev.ChildWorkflowStarted: RunState._child_started,
    ev.SignalSent: lambda state, event: state._sends.append(event),
}
_OUTCOMES: dict[type[ev.EventBase], Callable[[RunState, Any, Any], None]] = {
    ev.ActivityStarted: RunState._activity_started,
    ev.ActivityCompleted: RunState._activity_ended,
    ev.ActivityFailed: RunState._activity_ended,
    ev.TimerFired: RunState._timer_fired,
    ev.ChildWorkflowCompleted: RunState._child_ended,
    ev.ChildWorkflowFailed: RunState._child_ended,
    ev.WorkflowReopened: RunState._reopened,
}
