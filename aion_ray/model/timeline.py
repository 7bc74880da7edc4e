"""A history as a readable timeline: one line per event, with time offsets and details."""

from __future__ import annotations

from collections.abc import Sequence

from aion_ray.model import events as ev


def _detail(event: ev.Event) -> str:
    match event:
        case ev.WorkflowStarted():
            return f"{event.workflow_type}({_short(event.input.value)})"
        case ev.ActivityScheduled():
            return f"#{event.activity_id} {event.activity_type}({_short(event.input.value)})"
        case ev.ActivityStarted():
            return f"#{event.activity_id} attempt {event.attempt}"
        case ev.ActivityCompleted():
            return f"#{event.activity_id} -> {_short(event.result.value)}"
        case ev.ActivityFailed():
            retry = f", retry at {event.retry_at:%Y-%m-%d %H:%M:%S}" if event.retry_at else ""
            return f"#{event.activity_id} attempt {event.attempt}: {event.error.type}{retry}"
        case ev.TimerStarted():
            return f"#{event.timer_id} {event.name} until {event.fire_at:%Y-%m-%d %H:%M:%S}"
        case ev.TimerFired() | ev.TimerCancelled():
            return f"#{event.timer_id}"
        case ev.SignalReceived():
            return f"{event.name} = {_short(event.payload.value)}"
        case ev.WorkflowCompleted():
            return _short(event.result.value)
        case ev.WorkflowFailed():
            return f"{event.error.type}: {event.error.message}"
    return ""


def _short(value: object, width: int = 48) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def format_timeline(history: Sequence[ev.Event]) -> str:
    """One line per event: seq, time since the first event, type and the essentials."""
    if not history:
        return "(empty history)"
    start = history[0].recorded_at
    lines = []
    for event in history:
        offset = event.recorded_at - start
        days, seconds = offset.days, offset.seconds
        stamp = f"+{days}d {seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
        lines.append(f"{event.seq:>4}  {stamp:>13}  {event.type:<22} {_detail(event)}".rstrip())
    return "\n".join(lines)
