"""Activations: the batch of events a driver asks to append, and the effects behind them.

A driver applies every arrival to its run at once, speculatively, and collects the events it
stamps and the effects they call for in its ``ActivationBuffer``. The host's pump takes the
buffer as one ``Activation`` when it must be made durable: one append per activation, however
many arrivals went into it. Nothing in it acts on the world before that append commits,
except a local activity's start (see ``StartActivity.eager``), whose completion may wait for
the next durable boundary, but never longer than the pump's bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aion_ray.engine.effects import CancelActivity, Effect, StartActivity
from aion_ray.model import events as ev


@dataclass(frozen=True, slots=True)
class Activation:
    """Events to append at ``expected_seq`` (possibly none), then effects to perform."""

    workflow_id: str
    expected_seq: int
    events: tuple[ev.Event, ...]
    effects: tuple[Effect, ...]


@dataclass
class ActivationBuffer:
    """What a driver has stamped and asked for since its last activation was taken."""

    head: int
    """The seq of the last event taken into an activation (the next one's expected_seq)."""
    events: list[ev.Event] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    local_running: set[tuple[int, int]] = field(default_factory=set)
    """(activity id, attempt) of local activities started and not yet finished."""
    local_done_at: datetime | None = None
    """When the oldest local completion not yet taken into an activation arrived."""
    urgent: bool = False
    """Whether it holds an arrival other than a local activity's progress (a signal, a timer,
    a child's outcome, a remote result): those are never held back for local work."""

    @property
    def is_empty(self) -> bool:
        return not self.events and not self.effects

    def take_eager(self) -> list[StartActivity]:
        """Remove and return the local activity starts, which need not wait for a commit."""
        eager = [e for e in self.effects if isinstance(e, StartActivity) and e.eager]
        if eager:
            self.effects = [
                e for e in self.effects if not (isinstance(e, StartActivity) and e.eager)
            ]
            self.local_running.update((e.command.activity_id, e.attempt) for e in eager)
        return eager

    def _running(self, starts: list[StartActivity]) -> None:
        self.local_running.update((e.command.activity_id, e.attempt) for e in starts)

    def local_finished(self, activity_id: int, attempt: int, at: datetime) -> None:
        self.local_running.discard((activity_id, attempt))
        if self.local_done_at is None:
            self.local_done_at = at

    def local_cancelled(self, activity_id: int) -> None:
        """A local activity was cancelled: nothing waits for its result any more."""
        self.local_running = {key for key in self.local_running if key[0] != activity_id}

    def due_at(self, local_bound: timedelta) -> datetime | None:
        """When held local results must be appended at the latest (None: nothing is held)."""
        if self.local_done_at is None or not self.events:
            return None
        return self.local_done_at + local_bound

    def needs_commit(self, now: datetime, local_bound: timedelta) -> bool:
        """Whether the buffer must be appended now: it holds effects to perform, an urgent
        arrival, events while no local activity runs (the run waits on something durable),
        or local results older than ``local_bound``."""
        if self.effects:
            return True
        if not self.events:
            return False
        if self.urgent or not self.local_running:
            return True
        return self.local_done_at is not None and now - self.local_done_at >= local_bound

    def take(self, workflow_id: str) -> Activation:
        """Everything buffered as one activation; the buffer starts over after it."""
        events = tuple(self.events)
        activation = Activation(workflow_id, self.head, events, tuple(self.effects))
        self._running(_local_starts(self.effects))  # they start right after the append
        self.head += len(events)
        self.events, self.effects, self.local_done_at, self.urgent = [], [], None, False
        return activation


def _local_starts(effects: list[Effect]) -> list[StartActivity]:
    """The local activity starts among ``effects``, but those cancelled among them too."""
    cancelled = {e.activity_id for e in effects if isinstance(e, CancelActivity)}
    return [
        e
        for e in effects
        if isinstance(e, StartActivity) and e.eager and e.command.activity_id not in cancelled
    ]
