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
    ActivityFailed,
    Event,
    EventBase,
    SignalReceived,
    WorkflowCancelled,
    WorkflowCancelRequested,
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

REOPENABLE_TERMINALS: tuple[type[EventBase], ...] = (
    WorkflowFailed,
    WorkflowCancelled,
    WorkflowTimedOut,
    WorkflowTerminated,
)
"""The ends a reopen takes back. A completed run has nothing left to do, and a run that
continued as new lives on in its next run. A timed-out or terminated run never saw its end
(the engine closed it), so it replays up to it and goes on, with a fresh execution timeout;
a cancelled run has its cancellation taken back (see ``replayed_run``)."""


def may_follow_terminal(terminal: type[EventBase], event: Event) -> bool:
    """Whether ``event`` may be appended after a run that ended with ``terminal``: only a
    ``WorkflowStarted`` (the next run after continue-as-new, or a new run a caller asked for
    after any other end), or a ``WorkflowReopened`` of a run that ended in one of
    ``REOPENABLE_TERMINALS``. The recorder and every store's append guard apply this one
    rule."""
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
    """Whether the run is held by a pause: its latest pause has not been resumed (a reopen
    lets a run that ended while paused go on unpaused, as its status says)."""
    for event in reversed(run):
        if isinstance(event, WorkflowResumed | WorkflowReopened):
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


def replayed_run(run: Sequence[Event]) -> list[Event]:
    """The events of a run as its replay sees them: what each ``WorkflowReopened`` took back
    is left out. That is the terminal it superseded; for a cancelled run, also its
    cancellation: the last ``WorkflowCancelRequested`` and everything recorded after it but
    the signals (the cleanup the code ran is in the history, not in the replay, and attempts
    it cancelled run again). A terminal failure of an activity the reopen names becomes a
    retryable one due at the reopen, so that activity runs again at its next attempt. The
    stored history itself never changes."""
    reopens = [i for i, event in enumerate(run) if type(event) is WorkflowReopened]
    if not reopens:
        return list(run)
    withdrawn = _withdrawn(run, reopens)
    view: list[Event] = []
    for index, event in enumerate(run):
        if index in withdrawn:
            continue
        if type(event) is ActivityFailed and event.terminal:
            reopen = next(
                (r for r in (run[i] for i in reopens if i > index) if _names(r, event)), None
            )
            if reopen is not None:
                update = {"terminal": False, "retry_at": reopen.recorded_at}
                event = event.model_copy(update=update)
        view.append(event)
    return view


def _names(reopen: Event, failed: ActivityFailed) -> bool:
    return isinstance(reopen, WorkflowReopened) and failed.activity_id in reopen.reopened_activities


def _withdrawn(run: Sequence[Event], reopens: Sequence[int]) -> set[int]:
    """The indexes of ``run`` its reopens take back (the terminal is the event just before a
    reopen: nothing else may follow a terminal)."""
    withdrawn: set[int] = set()
    since = 0
    for reopen in reopens:
        end = reopen - 1
        withdrawn.add(end)
        if type(run[end]) is WorkflowCancelled:
            requests = [i for i in range(since, end) if type(run[i]) is WorkflowCancelRequested]
            if requests:
                withdrawn.update(
                    i for i in range(requests[-1], end) if type(run[i]) is not SignalReceived
                )
        since = reopen
    return withdrawn
