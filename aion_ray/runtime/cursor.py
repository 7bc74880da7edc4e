"""The history cursor: matches the commands workflow code issues to the events that recorded them.

Recorded command events (ActivityScheduled, TimerStarted, ...) are kept in history order with
their correlation keys. Each command the code issues must match the oldest one not matched
yet (same key and same activity/child type, timer or signal name) and resolves from it; once
all are matched, commands go live. Anything else means the code diverged from the history it
once wrote: a NonDeterminismError naming the seq, what the history holds and what the code
asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aion_ray.errors import NonDeterminismError
from aion_ray.model import events as ev
from aion_ray.runtime.commands import (
    CLOSE_KEY,
    CancelWorkflow,
    Command,
    CompleteWorkflow,
    ContinueAsNew,
    FailWorkflow,
    Key,
    ScheduleActivity,
    SendSignal,
    StartChild,
    StartTimer,
)

_CLOSE_EVENTS: dict[type[ev.EventBase], type[Command]] = {
    ev.WorkflowCompleted: CompleteWorkflow,
    ev.WorkflowFailed: FailWorkflow,
    ev.WorkflowCancelled: CancelWorkflow,
    ev.WorkflowContinuedAsNew: ContinueAsNew,
}


_KEYS: dict[type[ev.EventBase], Callable[[Any, int], Key]] = {
    ev.ActivityScheduled: lambda e, _: ("activity", e.activity_id),
    ev.ActivityCancelled: lambda e, _: ("activity_cancel", e.activity_id),
    ev.TimerStarted: lambda e, _: ("timer", e.timer_id),
    ev.TimerCancelled: lambda e, _: ("timer_cancel", e.timer_id),
    ev.ChildWorkflowStarted: lambda e, _: ("child", e.child_id),
    ev.SignalSent: lambda e, _: ("send", e.send_id),
    ev.MarkerRecorded: lambda e, _: ("marker", e.kind, e.name),
    ev.SearchAttributesUpdated: lambda _, ordinal: ("upsert", ordinal),
    **{close: (lambda e, _: CLOSE_KEY) for close in _CLOSE_EVENTS},
}


def command_key(event: ev.Event, upsert_ordinal: int = 0) -> Key | None:
    """The correlation key of a command event, or None for events that are not commands."""
    # Dispatch on the exact type: isinstance on pydantic models is slow, and replay is hot.
    make = _KEYS.get(type(event))
    return make(event, upsert_ordinal) if make is not None else None


def describe_event(event: ev.Event) -> str:
    """A short description of a recorded event for error messages."""
    match event:
        case ev.ActivityScheduled():
            return f"ActivityScheduled({event.activity_type}) #{event.activity_id}"
        case ev.TimerStarted():
            return f"TimerStarted({event.name}) #{event.timer_id}"
        case ev.ChildWorkflowStarted():
            return f"ChildWorkflowStarted({event.workflow_type}) #{event.child_id}"
        case ev.SignalSent():
            return f"SignalSent({event.name!r} to {event.target_workflow_id}) #{event.send_id}"
        case ev.MarkerRecorded():
            return f"MarkerRecorded({event.kind} {event.name!r})"
    return event.type


def _same_request(event: ev.Event, command: Command) -> bool:
    match command:
        case ScheduleActivity():
            return isinstance(event, ev.ActivityScheduled) and (
                event.activity_type == command.activity_type
            )
        case StartTimer():
            return isinstance(event, ev.TimerStarted) and event.name == command.name
        case StartChild():
            return isinstance(event, ev.ChildWorkflowStarted) and (
                event.workflow_type == command.workflow_type
            )
        case SendSignal():
            return isinstance(event, ev.SignalSent) and (event.name, event.target_workflow_id) == (
                command.name,
                command.target_workflow_id,
            )
    closing = _CLOSE_EVENTS.get(type(event))
    return closing is None or isinstance(command, closing)


class HistoryCursor:
    """Pairs recorded command events with the commands the workflow issues, in either order."""

    def __init__(self, workflow_id: str) -> None:
        self._workflow_id = workflow_id
        self._recorded: dict[Key, ev.Event] = {}
        self._emitted: dict[Key, Command] = {}
        self._key_of: dict[int, Key] = {}
        self._upserts = 0
        self.matched = 0
        """Recorded command events the code has asked for again (what a replay re-checked)."""

    @property
    def has_unmatched_history(self) -> bool:
        """Whether recorded command events still wait for the code to ask for them."""
        return bool(self._recorded)

    def record(self, event: ev.Event) -> bool:
        """Take in a recorded event; return True if it is a command event."""
        key = command_key(event, self._upserts + 1)
        if key is None:
            return False
        if type(event) is ev.SearchAttributesUpdated:
            self._upserts += 1
        command = self._emitted.pop(key, None)
        if command is None:
            self._recorded[key] = event
            self._key_of[id(event)] = key
        else:
            self._check_same(event, command)
        return True

    def issue(self, command: Command) -> ev.Event | None:
        """Match ``command``: its recorded event if history has one, None if it goes live."""
        # The code must ask for what history holds in the order history holds it: the host
        # records commands in the order the code issues them, and the dict keeps that order.
        first_key = next(iter(self._recorded), None)
        if first_key is None:
            self._emitted[command.key] = command
            return None
        first = self._recorded[first_key]
        if first_key != command.key:
            raise self._violation(first, command.describe())
        del self._recorded[first_key]
        self._check_same(first, command)
        self.matched += 1
        return first

    def recorded_event(self, key: Key) -> ev.Event | None:
        """The recorded, not yet matched command event with this key, if any."""
        return self._recorded.get(key)

    def knows(self, key: Key) -> bool:
        """Whether a recorded, not yet matched command event has this key."""
        return key in self._recorded

    def check_passed(self, event: ev.Event) -> None:
        """History order passed ``event``: if it is an unmatched command, the code diverged."""
        key = self._key_of.pop(id(event), None)
        if key is not None and self._recorded.get(key) is event:
            raise self._violation(event, "nothing (it was waiting for something else)")

    def _check_same(self, event: ev.Event, command: Command) -> None:
        if not _same_request(event, command):
            raise self._violation(event, command.describe())

    def _violation(self, event: ev.Event, requested: str) -> NonDeterminismError:
        return NonDeterminismError(self._workflow_id, event.seq, describe_event(event), requested)
