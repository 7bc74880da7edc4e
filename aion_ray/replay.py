"""The history cursor: matches the commands workflow code issues to the events that recorded them.

Recorded command events (ActivityScheduled, TimerStarted, ...) are indexed by correlation key.
A command whose key is recorded resolves from history; a command with no recorded event goes
live, but only if every recorded command event has been matched: anything else means the code
diverged from the history that it once wrote, which is a NonDeterminismError naming the seq,
what the history holds and what the code asked for.
"""

from __future__ import annotations

from collections.abc import Sequence

from aion_ray import events as ev
from aion_ray.commands import (
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
from aion_ray.errors import NonDeterminismError

_CLOSE_EVENTS: dict[type[ev.EventBase], type[Command]] = {
    ev.WorkflowCompleted: CompleteWorkflow,
    ev.WorkflowFailed: FailWorkflow,
    ev.WorkflowCancelled: CancelWorkflow,
    ev.WorkflowContinuedAsNew: ContinueAsNew,
}


def command_key(event: ev.Event, upsert_ordinal: int = 0) -> Key | None:
    """The correlation key of a command event, or None for events that are not commands."""
    match event:
        case ev.ActivityScheduled():
            return ("activity", event.activity_id)
        case ev.ActivityCancelled():
            return ("activity_cancel", event.activity_id)
        case ev.TimerStarted():
            return ("timer", event.timer_id)
        case ev.TimerCancelled():
            return ("timer_cancel", event.timer_id)
        case ev.ChildWorkflowStarted():
            return ("child", event.child_id)
        case ev.SignalSent():
            return ("send", event.send_id)
        case ev.MarkerRecorded():
            return ("marker", event.kind, event.name)
        case ev.SearchAttributesUpdated():
            return ("upsert", upsert_ordinal)
    return CLOSE_KEY if type(event) in _CLOSE_EVENTS else None


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

    @property
    def has_unmatched_history(self) -> bool:
        """Whether recorded command events still wait for the code to ask for them."""
        return bool(self._recorded)

    def record(self, event: ev.Event) -> bool:
        """Take in a recorded event; return True if it is a command event."""
        key = command_key(event, self._upserts + 1)
        if key is None:
            return False
        if isinstance(event, ev.SearchAttributesUpdated):
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
        recorded = self._recorded.pop(command.key, None)
        if recorded is not None:
            self._check_same(recorded, command)
            return recorded
        if self._recorded:
            first = min(self._recorded.values(), key=lambda e: e.seq)
            raise self._violation(first, command.describe())
        self._emitted[command.key] = command
        return None

    def knows(self, key: Key) -> bool:
        """Whether a recorded, not yet matched command event has this key."""
        return key in self._recorded

    def check_passed(self, event: ev.Event) -> None:
        """History order passed ``event``: if it is an unmatched command, the code diverged."""
        key = self._key_of.pop(id(event), None)
        if key is not None and self._recorded.get(key) is event:
            raise self._violation(event, "nothing (it was waiting for something else)")

    def unmatched(self) -> Sequence[ev.Event]:
        return sorted(self._recorded.values(), key=lambda e: e.seq)

    def _check_same(self, event: ev.Event, command: Command) -> None:
        if not _same_request(event, command):
            raise self._violation(event, command.describe())

    def _violation(self, event: ev.Event, requested: str) -> NonDeterminismError:
        return NonDeterminismError(self._workflow_id, event.seq, describe_event(event), requested)
