"""The timeline model: a history (and its lifecycle log) as lanes of bars and markers, in
seconds from the first event. Pure data; ``picture`` draws it.

Lanes: the workflow's runs first, then one lane per activity (a bar per attempt, by outcome),
per timer name (start to fire or cancel), per child workflow, and one for signals (markers).
Suspended periods (from a ``suspended`` lifecycle entry to the next ``resident`` one) are
shaded across every lane. Bars still open end at ``now`` (by default the last recorded moment).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aion_ray.model import events as ev
from aion_ray.model.history import STATUS_OF_EVENT
from aion_ray.model.store import LifecycleEntry
from aion_ray.runtime.state import INTERRUPTED


@dataclass(frozen=True, slots=True)
class Bar:
    lane: int
    start: float
    end: float
    outcome: str
    gid: str


@dataclass(frozen=True, slots=True)
class Marker:
    lane: int
    at: float
    label: str
    gid: str


@dataclass
class Timeline:
    """Lanes (labels, top to bottom), bars, markers and shaded spans, in seconds."""

    title: str
    origin: datetime | None
    end: float = 0.0
    lanes: list[str] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    shaded: list[tuple[float, float]] = field(default_factory=list)
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def lane(self, label: str) -> int:
        """The index of the lane called ``label``, added at the bottom if new."""
        index = self._index.get(label)
        if index is None:
            index = self._index[label] = len(self.lanes)
            self.lanes.append(label)
        return index


def build_timeline(
    events: Sequence[ev.Event],
    lifecycle: Sequence[LifecycleEntry] = (),
    now: datetime | None = None,
) -> Timeline:
    """The timeline of ``events`` (one workflow's history), shading its suspended periods."""
    if not events:
        return Timeline(title="(empty history)", origin=None)
    origin = events[0].recorded_at
    last = max([events[-1].recorded_at, *(e.recorded_at for e in lifecycle)])
    timeline = Timeline(title=events[0].workflow_id, origin=origin)
    timeline.end = ((now or last) - origin).total_seconds()
    _Folder(timeline, origin).fold(events)
    timeline.shaded = _suspended(lifecycle, origin, timeline.end)
    return timeline


Key = tuple[str, str, int]
"""An open bar: (kind, run id, number): a run, an activity, a timer or a child."""


class _Folder:
    """Walks the events once, opening bars at starts and closing them at outcomes."""

    def __init__(self, timeline: Timeline, origin: datetime) -> None:
        self.timeline = timeline
        self.origin = origin
        self.open: dict[Key, tuple[float, int]] = {}
        """Open bars: their start and attempt."""
        self.lanes: dict[Key, int] = {}
        self.runs = 0

    def fold(self, events: Sequence[ev.Event]) -> None:
        for event in events:
            at = (event.recorded_at - self.origin).total_seconds()
            if not self.take_effect(event, at):
                self.take_wait(event, at)
        for key in list(self.open):
            outcome = "waiting" if key[0] in ("timer", "child") else "running"
            self.close(key, self.timeline.end, outcome)

    def take_effect(self, event: ev.Event, at: float) -> bool:
        """Runs and activities; False if ``event`` is neither."""
        match event:
            case ev.WorkflowStarted():
                self.runs += 1
                self.begin(("run", event.run_id, 0), "workflow", at)
            case _ if type(event) in STATUS_OF_EVENT:
                self.close(("run", event.run_id, 0), at, str(STATUS_OF_EVENT[type(event)]))
            case ev.ActivityScheduled():
                label = self.label(f"#{event.activity_id} {event.activity_type}")
                self.lanes[("activity", event.run_id, event.activity_id)] = self.lane(label)
            case ev.ActivityStarted():
                key = ("activity", event.run_id, event.activity_id)
                self.begin(key, None, at, event.attempt)
            case ev.ActivityCompleted() | ev.ActivityFailed() | ev.ActivityCancelled():
                key = ("activity", event.run_id, event.activity_id)
                self.close(key, at, attempt_outcome(event), event.attempt)
            case _:
                return False
        return True

    def take_wait(self, event: ev.Event, at: float) -> None:
        """Timers, children and signals."""
        match event:
            case ev.TimerStarted():
                key = ("timer", event.run_id, event.timer_id)
                self.begin(key, self.label(f"timer: {event.name}"), at)
            case ev.TimerFired() | ev.TimerCancelled():
                outcome = "fired" if isinstance(event, ev.TimerFired) else "cancelled"
                self.close(("timer", event.run_id, event.timer_id), at, outcome)
            case ev.ChildWorkflowStarted():
                label = self.label(f"child #{event.child_id} {event.workflow_type}")
                self.begin(("child", event.run_id, event.child_id), label, at)
            case ev.ChildWorkflowCompleted():
                self.close(("child", event.run_id, event.child_id), at, "completed")
            case ev.ChildWorkflowFailed():
                self.close(("child", event.run_id, event.child_id), at, event.status)
            case ev.SignalReceived() | ev.SignalSent():
                label = f"→ {event.name}" if isinstance(event, ev.SignalSent) else event.name
                marker = Marker(self.lane("signals"), at, label, f"signal-{event.seq}")
                self.timeline.markers.append(marker)

    def label(self, text: str) -> str:
        """Lanes of later runs (continue-as-new, new runs) say which run they belong to."""
        return text if self.runs <= 1 else f"run {self.runs}: {text}"

    def lane(self, label: str) -> int:
        return self.timeline.lane(label)

    def begin(self, key: Key, label: str | None, at: float, attempt: int = 0) -> None:
        """Open a bar on ``key``'s lane (``label``'s, if given)."""
        if label is not None:
            self.lanes[key] = self.lane(label)
        if key in self.open:  # a new attempt while one was open: that one never ended
            self.close(key, at, "interrupted")
        self.open[key] = (at, attempt)

    def close(self, key: Key, at: float, outcome: str, attempt: int | None = None) -> None:
        """End ``key``'s open bar (or draw an instant one if its start was not recorded)."""
        start, opened_attempt = self.open.pop(key, (at, attempt or 0))
        lane = self.lanes.get(key)
        if lane is None:
            lane = self.lanes[key] = self.lane(self.label(f"{key[0]} #{key[2]}"))
        kind, run, number = key
        gid = f"{kind}-{run}-{number}-{opened_attempt if attempt is None else attempt}"
        self.timeline.bars.append(Bar(lane, start, max(start, at), outcome, gid))


def attempt_outcome(event: ev.ActivityCompleted | ev.ActivityFailed | ev.ActivityCancelled) -> str:
    """How an activity attempt ended: completed, failed (for good), retried, interrupted or
    cancelled."""
    if isinstance(event, ev.ActivityCompleted):
        return "completed"
    if isinstance(event, ev.ActivityCancelled):
        return "cancelled"
    if event.error.type == INTERRUPTED:
        return "interrupted"
    return "failed" if event.terminal else "retried"


def _suspended(
    lifecycle: Sequence[LifecycleEntry], origin: datetime, end: float
) -> list[tuple[float, float]]:
    """(from, to) of each suspended period: a ``suspended`` entry until the next placement."""
    periods: list[tuple[float, float]] = []
    since: float | None = None
    for entry in sorted(lifecycle, key=lambda e: e.recorded_at):
        at = (entry.recorded_at - origin).total_seconds()
        if entry.kind == "suspended" and since is None:
            since = at
        elif entry.kind == "resident" and since is not None:
            periods.append((since, at))
            since = None
    if since is not None:
        periods.append((since, max(since, end)))
    return periods
