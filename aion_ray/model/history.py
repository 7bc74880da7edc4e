"""Status is a projection of history, never stored as truth: the last lifecycle event wins.

A history spans every run of a workflow id. ``WorkflowStarted`` begins a run segment;
``WorkflowStarted`` and ``WorkflowReopened`` are reset points for the current run's terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from aion_ray.model.events import (
    TERMINAL_EVENTS,
    Event,
    EventBase,
    WorkflowCancelled,
    WorkflowCompleted,
    WorkflowContinuedAsNew,
    WorkflowFailed,
    WorkflowPaused,
    WorkflowReopened,
    WorkflowResumed,
    WorkflowStarted,
    WorkflowTerminated,
    WorkflowTimedOut,
)


class WorkflowStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    TERMINATED = "terminated"
    CONTINUED_AS_NEW = "continued_as_new"

    @property
    def is_terminal(self) -> bool:
        return self not in (WorkflowStatus.RUNNING, WorkflowStatus.PAUSED)


STATUS_OF_EVENT: dict[type[EventBase], WorkflowStatus] = {
    WorkflowStarted: WorkflowStatus.RUNNING,
    WorkflowReopened: WorkflowStatus.RUNNING,
    WorkflowResumed: WorkflowStatus.RUNNING,
    WorkflowPaused: WorkflowStatus.PAUSED,
    WorkflowCompleted: WorkflowStatus.COMPLETED,
    WorkflowFailed: WorkflowStatus.FAILED,
    WorkflowCancelled: WorkflowStatus.CANCELLED,
    WorkflowTimedOut: WorkflowStatus.TIMED_OUT,
    WorkflowTerminated: WorkflowStatus.TERMINATED,
    WorkflowContinuedAsNew: WorkflowStatus.CONTINUED_AS_NEW,
}
"""The lifecycle events and the status each one sets; every other event leaves status alone."""

_RESET_POINTS = (WorkflowStarted, WorkflowReopened)

REOPENABLE_TERMINALS = (WorkflowFailed,)
"""Only a failed run reopens: a cancelled run already saw its cancellation and ran its cleanup,
so replaying it would only cancel it again; a completed run has nothing left to do."""


def may_follow_terminal(terminal: type[EventBase], event: Event) -> bool:
    """Whether ``event`` may be appended after a run that ended with ``terminal``: only a
    ``WorkflowStarted`` (the next run after continue-as-new, or a new run a caller asked for
    after any other end), or a ``WorkflowReopened`` of a failed run. The recorder and every
    store's append guard apply this one rule."""
    if type(event) is WorkflowStarted:
        return True
    if type(event) is WorkflowReopened:
        return issubclass(terminal, REOPENABLE_TERMINALS)
    return False


def status_of(history: Sequence[Event]) -> WorkflowStatus | None:
    """The workflow's status, or None for an empty history (no such workflow)."""
    for event in reversed(history):
        status = STATUS_OF_EVENT.get(type(event))
        if status is not None:
            return status
    return None


def current_terminal(history: Sequence[Event]) -> Event | None:
    """The current run's terminal event, if it has one (looking back to the last reset point)."""
    for event in reversed(history):
        if isinstance(event, TERMINAL_EVENTS):
            return event
        if isinstance(event, _RESET_POINTS):
            return None
    return None


@dataclass(frozen=True, slots=True)
class RunSegment:
    """One run's slice of a history: ``history[start:stop]``."""

    run_id: str
    start: int
    stop: int


def run_segments(history: Sequence[Event]) -> list[RunSegment]:
    """Every run in order; each segment runs from its WorkflowStarted to the next one."""
    starts = [i for i, event in enumerate(history) if isinstance(event, WorkflowStarted)]
    bounds = [*starts, len(history)]
    return [RunSegment(history[s].run_id, s, bounds[i + 1]) for i, s in enumerate(starts)]


def current_run(history: Sequence[Event]) -> Sequence[Event]:
    """The events of the latest run (empty if the history has no WorkflowStarted)."""
    for index in range(len(history) - 1, -1, -1):
        if isinstance(history[index], WorkflowStarted):
            return history[index:]
    return ()


def run_segment(history: Sequence[Event], run_id: str) -> Sequence[Event]:
    """The events of run ``run_id`` (empty if there is no such run)."""
    for segment in run_segments(history):
        if segment.run_id == run_id:
            return history[segment.start : segment.stop]
    return ()


def is_paused(run: Sequence[Event]) -> bool:
    """Whether the run is held by a pause: its latest pause has not been resumed."""
    for event in reversed(run):
        if isinstance(event, WorkflowResumed):
            return False
        if isinstance(event, WorkflowPaused):
            return True
    return False


def run_deadline(run: Sequence[Event]) -> datetime | None:
    """When the run's execution timeout expires: its timeout after its start, or after its
    latest reopen (a reopened run gets its full timeout again)."""
    started = run[0] if run else None
    if not isinstance(started, WorkflowStarted) or started.execution_timeout is None:
        return None
    reopens = [e.recorded_at for e in run if isinstance(e, WorkflowReopened)]
    since = reopens[-1] if reopens else started.recorded_at
    return since + timedelta(seconds=started.execution_timeout)
