"""The durable timer index, derived from events: which timers are pending, and when.

A ``TimerDelta`` collects the net effect of a batch of events on the index, so a store can
apply it in the same transaction as the events. Timer id 0 is a run's execution deadline and
``-activity_id`` an activity's retry time: a suspended workflow waiting out a retry backoff is
woken like one waiting for a timer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aion_ray.model.events import (
    TERMINAL_EVENTS,
    ActivityCancelled,
    ActivityFailed,
    ActivityStarted,
    Event,
    TimerCancelled,
    TimerFired,
    TimerStarted,
    WorkflowReopened,
    WorkflowStarted,
)
from aion_ray.model.history import current_run, current_terminal, replayed_run, run_deadline
from aion_ray.model.visibility import WorkflowInfo, project_info
from aion_ray.storage.contract import DEADLINE_TIMER_ID, DueTimer

TimerKey = tuple[str, int]


@dataclass(slots=True)
class TimerDelta:
    """Net changes to the timer index: ``cleared`` workflows first, then ``changes``."""

    cleared: set[str] = field(default_factory=set)
    changes: dict[TimerKey, DueTimer | None] = field(default_factory=dict)

    def merge(self, other: TimerDelta) -> None:
        """Apply ``other`` (a later delta) on top of this one."""
        for workflow_id in other.cleared:
            self.clear(workflow_id)
        self.changes.update(other.changes)

    def clear(self, workflow_id: str) -> None:
        self.cleared.add(workflow_id)
        for key in [key for key in self.changes if key[0] == workflow_id]:
            del self.changes[key]

    def fold(self, event: Event, history: Callable[[], Sequence[Event]]) -> None:
        """Apply one event; ``history`` returns the history up to and including it."""
        if not changes_timers(event):
            return
        if isinstance(event, WorkflowStarted):
            if event.seq > 1:  # a later run (continue-as-new): the ended run's rows go
                self.clear(event.workflow_id)
            self._add_all(_deadline([event]))
        elif isinstance(event, TimerStarted):
            self._put(DueTimer(**_row(event), timer_id=event.timer_id, fire_at=event.fire_at))
        elif isinstance(event, TimerFired | TimerCancelled):
            self.changes[(event.workflow_id, event.timer_id)] = None
        elif isinstance(event, ActivityFailed | ActivityStarted | ActivityCancelled):
            self.changes[(event.workflow_id, -event.activity_id)] = _retry(event)
        elif isinstance(event, TERMINAL_EVENTS):
            self.clear(event.workflow_id)
        elif isinstance(event, WorkflowReopened):
            self.clear(event.workflow_id)
            self._add_all(pending_timers(replayed_run(current_run(history()))))

    def _put(self, timer: DueTimer) -> None:
        self.changes[(timer.workflow_id, timer.timer_id)] = timer

    def _add_all(self, timers: Sequence[DueTimer]) -> None:
        for timer in timers:
            self._put(timer)


TIMER_EVENTS = frozenset(
    {
        WorkflowStarted,
        TimerStarted,
        TimerFired,
        TimerCancelled,
        WorkflowReopened,
        ActivityFailed,
        ActivityStarted,
        ActivityCancelled,
        *TERMINAL_EVENTS,
    }
)
"""The event types that may change a workflow's pending timers; ``TimerDelta.fold`` ignores
the rest (see ``changes_timers`` for the exact test)."""


def changes_timers(event: Event) -> bool:
    """Whether ``event`` changes the timer index. A first attempt's ActivityStarted (the most
    common event of all) never does: no retry time can be pending before it; nor does a
    terminal ActivityFailed, whose attempt's start already removed any retry time."""
    kind = type(event)
    if kind is ActivityStarted:
        return event.attempt > 1  # type: ignore[union-attr] # narrowed by type()
    if kind is ActivityFailed:
        return not event.terminal  # type: ignore[union-attr] # narrowed by type()
    return kind in TIMER_EVENTS


def _retry(event: ActivityFailed | ActivityStarted | ActivityCancelled) -> DueTimer | None:
    """The retry-time row an activity event leaves: a retryable failure sets one, a new
    attempt or a cancellation removes it."""
    if isinstance(event, ActivityFailed) and not event.terminal and event.retry_at is not None:
        return DueTimer(**_row(event), timer_id=-event.activity_id, fire_at=event.retry_at)
    return None


def pending_timers(run: Sequence[Event]) -> list[DueTimer]:
    """The timers of one run that have neither fired nor been cancelled, the retry times of
    activities waiting out a backoff, and the run's deadline."""
    pending: dict[int, DueTimer] = {}
    for event in run:
        if isinstance(event, TimerStarted):
            pending[event.timer_id] = DueTimer(
                **_row(event), timer_id=event.timer_id, fire_at=event.fire_at
            )
        elif isinstance(event, TimerFired | TimerCancelled):
            pending.pop(event.timer_id, None)
        elif isinstance(event, ActivityFailed | ActivityStarted | ActivityCancelled):
            retry = _retry(event)
            if retry is None:
                pending.pop(-event.activity_id, None)
            else:
                pending[retry.timer_id] = retry
    return [*pending.values(), *_deadline(run)]


def _deadline(run: Sequence[Event]) -> list[DueTimer]:
    fire_at = run_deadline(run)
    if fire_at is None:
        return []
    return [DueTimer(**_row(run[0]), timer_id=DEADLINE_TIMER_ID, fire_at=fire_at)]


def _row(event: Event) -> dict[str, str]:
    return {"workflow_id": event.workflow_id, "run_id": event.run_id}


def derived_from_history(history: Sequence[Event]) -> tuple[WorkflowInfo | None, list[DueTimer]]:
    """What a store derives from one whole history: its visibility record and pending timers
    (used to rebuild the derived tables from the events)."""
    run = replayed_run(current_run(history))
    timers = pending_timers(run) if current_terminal(history) is None else []
    return project_info(history), timers
