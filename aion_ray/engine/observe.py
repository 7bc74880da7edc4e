"""Metrics: what the engine counts and times, through a small port any host can fill.

The core tells a ``Metrics`` what happened (a run started or ended, an attempt ended, a
replay or a commit took so long, how the pool and the residency stand); it never knows where
the numbers go. ``NO_METRICS`` drops them (the default everywhere), ``RecordedMetrics`` keeps
them in memory (for tests on the TestEngine), and on Ray ``actors/metrics.py`` exports them
through Ray's metrics pipeline (README, "Metrics"). A host hands its ``Metrics`` to its
``HostCore`` (``core.metrics``); ``observe_appended`` turns the events a host has just made
durable into run counts, so a run is counted once, by the host whose append recorded it.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from aion_ray.engine.driver import WorkflowDriver
from aion_ray.model import events as ev
from aion_ray.model.clock import Clock
from aion_ray.model.error_info import ErrorInfo

ENDINGS: dict[type[ev.Event], str] = {
    ev.WorkflowCompleted: "completed",
    ev.WorkflowFailed: "failed",
    ev.WorkflowCancelled: "cancelled",
    ev.WorkflowTerminated: "terminated",
    ev.WorkflowTimedOut: "timed_out",
    ev.WorkflowContinuedAsNew: "continued_as_new",
}
"""The ``status`` a run's terminal event is counted under."""


class Metrics(Protocol):
    """Where the engine reports what it counts and times (seconds, counts)."""

    def workflow_started(self, workflow_type: str) -> None:
        """A run began (a start, or the next run of a continue-as-new)."""
        ...

    def workflow_ended(self, workflow_type: str, status: str) -> None:
        """A run ended with ``status`` (one of ``ENDINGS``' values)."""
        ...

    def activity_attempt(self, activity_type: str, outcome: str, seconds: float) -> None:
        """An attempt ended (``completed`` or ``failed``), ``seconds`` after it started."""
        ...

    def replay(self, workflow_type: str, seconds: float) -> None:
        """A host rebuilt a run from its history in ``seconds``."""
        ...

    def commit(self, seconds: float, batch_size: int) -> None:
        """The store committed ``batch_size`` appends in one batch, in ``seconds``."""
        ...

    def residency(self, resident: int, suspended: int) -> None:
        """How many open workflows are hosted now, and how many are suspended."""
        ...

    def pool(self, hosts: int, busy: int) -> None:
        """How many hosts the pool has now, and how many of them host a workflow."""
        ...

    def restarts(self, count: int) -> None:
        """``count`` more workflows were resumed after their host died."""
        ...


class NoMetrics:
    """Drops everything: the default of every host."""

    def workflow_started(self, workflow_type: str) -> None:
        pass

    def workflow_ended(self, workflow_type: str, status: str) -> None:
        pass

    def activity_attempt(self, activity_type: str, outcome: str, seconds: float) -> None:
        pass

    def replay(self, workflow_type: str, seconds: float) -> None:
        pass

    def commit(self, seconds: float, batch_size: int) -> None:
        pass

    def residency(self, resident: int, suspended: int) -> None:
        pass

    def pool(self, hosts: int, busy: int) -> None:
        pass

    def restarts(self, count: int) -> None:
        pass


NO_METRICS: Metrics = NoMetrics()


@dataclass
class RecordedMetrics:
    """Keeps what it is told, for tests: counts by tags, and every duration."""

    started: collections.Counter[str] = field(default_factory=collections.Counter)
    """Runs started, by workflow type."""
    ended: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    """Runs ended, by (workflow type, status)."""
    attempts: collections.Counter[tuple[str, str]] = field(default_factory=collections.Counter)
    """Attempts ended, by (activity type, outcome)."""
    attempt_seconds: list[float] = field(default_factory=list)
    replays: list[tuple[str, float]] = field(default_factory=list)
    commits: list[tuple[float, int]] = field(default_factory=list)
    gauges: dict[str, int] = field(default_factory=dict)
    """The latest resident, suspended, hosts and busy counts."""
    restarted: int = 0

    def workflow_started(self, workflow_type: str) -> None:
        self.started[workflow_type] += 1

    def workflow_ended(self, workflow_type: str, status: str) -> None:
        self.ended[workflow_type, status] += 1

    def activity_attempt(self, activity_type: str, outcome: str, seconds: float) -> None:
        self.attempts[activity_type, outcome] += 1
        self.attempt_seconds.append(seconds)

    def replay(self, workflow_type: str, seconds: float) -> None:
        self.replays.append((workflow_type, seconds))

    def commit(self, seconds: float, batch_size: int) -> None:
        self.commits.append((seconds, batch_size))

    def residency(self, resident: int, suspended: int) -> None:
        self.gauges.update(resident=resident, suspended=suspended)

    def pool(self, hosts: int, busy: int) -> None:
        self.gauges.update(hosts=hosts, busy=busy)

    def restarts(self, count: int) -> None:
        self.restarted += count


def observe_appended(metrics: Metrics, workflow_type: str, events: Iterable[ev.Event]) -> None:
    """Count the runs that ``events`` (just made durable) start and end. ``workflow_type``:
    the type of the run they belong to (a continue-as-new names the next run's type)."""
    for event in events:
        if isinstance(event, ev.WorkflowStarted):
            workflow_type = event.workflow_type
            metrics.workflow_started(workflow_type)
        elif (status := ENDINGS.get(type(event))) is not None:
            metrics.workflow_ended(workflow_type, status)


def attempt_ended(
    metrics: Metrics,
    driver: WorkflowDriver,
    activity_id: int,
    attempt: int,
    error: ErrorInfo | None,
    clock: Clock,
) -> None:
    """Count the end of the attempt its host ran (a late report, for an attempt cancelled or
    superseded since, is not counted), timed from its recorded ``ActivityStarted``."""
    trail = driver.run.state.trail(activity_id) if driver.is_open and driver.run else None
    if trail is None or trail.done or trail.attempt != attempt or trail.scheduled is None:
        return
    began = trail.started_at
    seconds = max(0.0, (clock.now() - began).total_seconds()) if began is not None else 0.0
    outcome = "completed" if error is None else "failed"
    metrics.activity_attempt(trail.scheduled.activity_type, outcome, seconds)
