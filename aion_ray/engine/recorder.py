"""The Recorder: the single writer of one workflow's history.

It stamps events with contiguous seqs and the clock's time, appends them with the head it
tracks and its lease, and refuses centrally anything after the current run's terminal event
(except what opens a new run or reopens this one). Any store with ``append`` and
``read_history`` in the shape of ``aion_ray.storage.HistoryStore`` will do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from aion_ray.errors import FencedError, SequenceConflictError, StoreError, WorkflowTerminalError
from aion_ray.model import events as ev
from aion_ray.model.clock import Clock
from aion_ray.model.history import STATUS_OF_EVENT
from aion_ray.model.lease import Lease
from aion_ray.runtime.commands import Envelope

EventDraft = Callable[[Envelope], ev.Event]
_RETRIES = (0.05, 0.2, 1.0)


class HistoryWriter(Protocol):
    """The part of a history store the recorder needs."""

    def append(
        self, workflow_id: str, events: Sequence[ev.Event], *, expected_seq: int, lease: Lease
    ) -> int: ...


def draft(cls: type[ev.EventBase], **fields: object) -> EventDraft:
    """An event to record: its own fields now, the envelope when it is recorded."""
    return lambda env: cls(**env.fields(), **fields)  # type: ignore[return-value]


class Recorder:
    """Appends one workflow's events; tracks its head, run and terminal state itself."""

    def __init__(
        self,
        store: HistoryWriter,
        lease: Lease,
        clock: Clock,
        history: Sequence[ev.Event],
    ) -> None:
        self.store = store
        self.lease = lease
        self.clock = clock
        self.workflow_id = lease.workflow_id
        self.head = len(history)
        self.run_id = ""
        self.terminal: ev.Event | None = None
        for event in history:
            self._track(event)

    def record(self, drafts: Sequence[EventDraft], *, run_id: str | None = None) -> list[ev.Event]:
        """Stamp, check and durably append ``drafts`` in one batch; return the events."""
        if not drafts:
            return []
        now = self.clock.now()
        run = run_id or self.run_id
        events = [
            make(Envelope(self.workflow_id, run, self.head + i + 1, now))
            for i, make in enumerate(drafts)
        ]
        self._check_open(events)
        self.head = self._append(events)
        for event in events:
            self._track(event)
        return events

    @property
    def is_open(self) -> bool:
        return self.terminal is None

    def _append(self, events: list[ev.Event]) -> int:
        for delay in (*_RETRIES, None):
            try:
                return self.store.append(
                    self.workflow_id, events, expected_seq=self.head, lease=self.lease
                )
            except (FencedError, SequenceConflictError):
                raise
            except StoreError:
                # The store recognises a retried append that already landed, so retrying
                # after a lost acknowledgement never duplicates events.
                if delay is None:
                    raise
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _check_open(self, events: Sequence[ev.Event]) -> None:
        terminal = self.terminal
        for event in events:
            if isinstance(event, ev.WorkflowStarted | ev.WorkflowReopened):
                terminal = None
            elif terminal is not None:
                status = STATUS_OF_EVENT[type(terminal)]
                raise WorkflowTerminalError(
                    self.workflow_id, self.run_id, status, f"record {event.type} in"
                )
            elif isinstance(event, ev.TERMINAL_EVENTS):
                terminal = event

    def _track(self, event: ev.Event) -> None:
        if isinstance(event, ev.WorkflowStarted):
            self.run_id, self.terminal = event.run_id, None
        elif isinstance(event, ev.WorkflowReopened):
            self.terminal = None
        elif isinstance(event, ev.TERMINAL_EVENTS):
            self.terminal = event
