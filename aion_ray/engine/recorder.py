"""The Recorder: the single writer's bookkeeping for one workflow's history. It does no I/O.

It stamps events with contiguous seqs and the clock's time and refuses, centrally, anything
after the current run's terminal event except what ``may_follow_terminal`` allows (the next
run's start after continue-as-new, a reopen of a run that ended). The events it stamps are
speculative until the host's pump has appended them; if that append fails, the host throws
the recorder away with its driver and rebuilds both from the stored history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aion_ray.errors import WorkflowTerminalError
from aion_ray.model import events as ev
from aion_ray.model.clock import Clock
from aion_ray.model.history import STATUS_OF_EVENT, may_follow_terminal
from aion_ray.runtime.commands import Envelope

EventDraft = Callable[[Envelope], ev.Event]


def draft(cls: type[ev.EventBase], **fields: object) -> EventDraft:
    """An event to record: its own fields now, the envelope when it is recorded."""
    return lambda env: cls(**env.fields(), **fields)  # type: ignore[return-value]


class Recorder:
    """Stamps one workflow's events; tracks its head, run and terminal state itself."""

    def __init__(self, workflow_id: str, clock: Clock, history: Sequence[ev.Event]) -> None:
        self.workflow_id = workflow_id
        self.clock = clock
        self.head = len(history)
        self.run_id = ""
        self.terminal: ev.Event | None = None
        for event in history:
            self._track(event)

    def stamp(self, drafts: Sequence[EventDraft], *, run_id: str | None = None) -> list[ev.Event]:
        """Stamp and check ``drafts`` as the next events of the history; return them."""
        if not drafts:
            return []
        now = self.clock.now()
        run = run_id or self.run_id
        events = [
            make(Envelope(self.workflow_id, run, self.head + i + 1, now))
            for i, make in enumerate(drafts)
        ]
        self._check_open(events)
        self.head += len(events)
        for event in events:
            self._track(event)
        return events

    @property
    def is_open(self) -> bool:
        return self.terminal is None

    def _check_open(self, events: Sequence[ev.Event]) -> None:
        terminal = self.terminal
        for event in events:
            if terminal is not None:
                if not may_follow_terminal(type(terminal), event):
                    status = STATUS_OF_EVENT[type(terminal)]
                    raise WorkflowTerminalError(
                        self.workflow_id, self.run_id, status, f"record {event.type} in"
                    )
                terminal = None
            elif isinstance(event, ev.TERMINAL_EVENTS):
                terminal = event

    def _track(self, event: ev.Event) -> None:
        if isinstance(event, ev.WorkflowStarted):
            self.run_id, self.terminal = event.run_id, None
        elif isinstance(event, ev.WorkflowReopened):
            self.terminal = None
        elif isinstance(event, ev.TERMINAL_EVENTS):
            self.terminal = event
