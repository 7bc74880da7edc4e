"""The append guard: every rule an append must pass, shared by all stores.

A store keeps one ``HeadState`` per workflow id (its head seq, lease epoch and where the
current run stands) and runs each append through ``check_append``, which either returns the
state after the batch or raises, so that a refused append writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from aion_ray.errors import (
    FencedError,
    InvalidEventError,
    SequenceConflictError,
    WorkflowTerminalError,
)
from aion_ray.model.events import (
    EVENT_TYPES,
    TERMINAL_EVENTS,
    Event,
    EventBase,
    WorkflowContinuedAsNew,
    WorkflowReopened,
    WorkflowStarted,
)
from aion_ray.model.history import STATUS_OF_EVENT, may_follow_terminal
from aion_ray.model.ids import validate_workflow_id
from aion_ray.model.lease import Lease
from aion_ray.model.visibility import VISIBLE_EVENTS, WorkflowInfo, apply_event
from aion_ray.storage.timer_index import TIMER_EVENTS, TimerDelta, changes_timers

_EVENT_CLASSES = frozenset(EVENT_TYPES.values())


@dataclass(frozen=True, slots=True)
class HeadState:
    """What the guard needs to know about one workflow id."""

    head: int = 0
    epoch: int = 0
    run_id: str | None = None
    terminal: type[EventBase] | None = None
    next_run_id: str | None = None


def check_shape(workflow_id: str, events: Sequence[Event], expected_seq: int) -> None:
    """Reject batches that are malformed on their own, before looking at any state."""
    if expected_seq < 0:
        raise InvalidEventError(workflow_id, f"expected_seq must be >= 0, got {expected_seq}")
    for offset, event in enumerate(events):
        if type(event) not in _EVENT_CLASSES:  # exact types: the guard dispatches on them
            raise InvalidEventError(
                workflow_id, f"item {offset} is not an event of a known type: {event!r:.80}"
            )
        if event.workflow_id != workflow_id:
            raise InvalidEventError(
                workflow_id, f"event seq {event.seq} belongs to workflow {event.workflow_id!r}"
            )
        if event.seq != expected_seq + 1 + offset:
            raise InvalidEventError(
                workflow_id,
                f"seqs must be contiguous from {expected_seq + 1}: item {offset} has seq "
                f"{event.seq}, expected {expected_seq + 1 + offset}",
            )


def check_lease(workflow_id: str, lease: Lease, state: HeadState) -> None:
    """Refuse a lease for another workflow, or one an acquisition has fenced off."""
    if not isinstance(lease, Lease) or lease.workflow_id != workflow_id:
        raise InvalidEventError(workflow_id, f"lease {lease!r:.80} is not for this workflow")
    if lease.epoch != state.epoch:
        raise FencedError(workflow_id, lease.epoch, state.epoch)


def retried_acquire(expected_seq: int, events: int, state: HeadState) -> bool:
    """Whether an acquiring request may be the retry of one that landed (its head moved
    past ``expected_seq`` and it carries events): it is then checked as an append under the
    current lease, which recognises a landed batch and refuses anything else."""
    return events > 0 and expected_seq < state.head


def acquired_state(workflow_id: str, expected_seq: int, state: HeadState) -> HeadState:
    """The state an acquiring append (a start or a resume) writes under: the head must be
    ``expected_seq`` (a start at 0 fails if the id exists), and the epoch moves one up."""
    if expected_seq != state.head:
        raise SequenceConflictError(workflow_id, expected_seq, state.head)
    return replace(state, epoch=state.epoch + 1)


def check_append(
    workflow_id: str, events: Sequence[Event], expected_seq: int, lease: Lease, state: HeadState
) -> HeadState:
    """Validate an append against ``state``; return the state after it, or raise."""
    check_lease(workflow_id, lease, state)
    if expected_seq != state.head:
        raise SequenceConflictError(workflow_id, expected_seq, state.head)
    return _fold(workflow_id, state, events)


def _fold(workflow_id: str, state: HeadState, events: Sequence[Event]) -> HeadState:
    for event in events:
        state = _advance(workflow_id, state, event)
    if not events:
        return state
    # Built directly: dataclasses.replace costs more than the rest of a typical append's check.
    return HeadState(
        head=events[-1].seq,
        epoch=state.epoch,
        run_id=state.run_id,
        terminal=state.terminal,
        next_run_id=state.next_run_id,
    )


def _advance(workflow_id: str, state: HeadState, event: Event) -> HeadState:
    if (
        type(event) not in _RUN_EDGES
        and state.terminal is None
        and state.run_id is not None
        and event.run_id == state.run_id
    ):
        return state  # the common case, checked on exact types (isinstance is slow on models)
    if isinstance(event, WorkflowStarted):
        _check_new_run(workflow_id, state, event)
        return replace(state, run_id=event.run_id, terminal=None, next_run_id=None)
    if state.run_id is None:
        raise InvalidEventError(
            workflow_id, f"a history must begin with WorkflowStarted, not {event.type}"
        )
    if event.run_id != state.run_id:
        raise InvalidEventError(
            workflow_id,
            f"{event.type} seq {event.seq} names run {event.run_id}, "
            f"but the current run is {state.run_id}",
        )
    if isinstance(event, WorkflowReopened):
        if not (state.terminal and may_follow_terminal(state.terminal, event)):
            ended = STATUS_OF_EVENT[state.terminal] if state.terminal else "running"
            raise InvalidEventError(workflow_id, f"a {ended} run cannot be reopened")
        return replace(state, terminal=None)
    if state.terminal is not None:
        raise _terminal_error(workflow_id, state, f"append {event.type} to")
    if isinstance(event, TERMINAL_EVENTS):
        next_run = event.next_run_id if isinstance(event, WorkflowContinuedAsNew) else None
        return replace(state, terminal=type(event), next_run_id=next_run)
    return state


_RUN_EDGES = frozenset({WorkflowStarted, WorkflowReopened, *TERMINAL_EVENTS})
"""Events that open, end or reopen a run: every other event leaves the head state alone."""


def _check_new_run(workflow_id: str, state: HeadState, event: WorkflowStarted) -> None:
    if state.run_id is None:
        return
    if state.terminal is None:
        raise InvalidEventError(
            workflow_id, f"run {state.run_id} is still open; it must end before a new run starts"
        )
    if not may_follow_terminal(state.terminal, event):
        raise _terminal_error(workflow_id, state, "start a new run of")
    if state.terminal is not WorkflowContinuedAsNew:  # a new run a caller asked for
        if event.run_id == state.run_id or event.parent_run_id is not None:
            raise InvalidEventError(
                workflow_id,
                f"a new run after run {state.run_id} ended needs a run id of its own and no "
                f"parent run; WorkflowStarted names run {event.run_id} with parent "
                f"{event.parent_run_id}",
            )
        return
    if event.run_id != state.next_run_id or event.parent_run_id != state.run_id:
        raise InvalidEventError(
            workflow_id,
            f"run {state.run_id} continued as {state.next_run_id}; WorkflowStarted names run "
            f"{event.run_id} with parent {event.parent_run_id}",
        )


def _terminal_error(workflow_id: str, state: HeadState, operation: str) -> WorkflowTerminalError:
    status = STATUS_OF_EVENT[state.terminal] if state.terminal else "running"
    return WorkflowTerminalError(workflow_id, state.run_id or "?", str(status), operation)


def _needs_fold(events: Sequence[Event]) -> bool:
    """Whether any of ``events`` changes the visibility record or the timer index."""
    for event in events:
        kind = type(event)
        if kind in VISIBLE_EVENTS or (kind in TIMER_EVENTS and changes_timers(event)):
            return True
    return False


@dataclass(frozen=True, slots=True)
class AppendPlan:
    """What an accepted append changes: the new head state and visibility record."""

    state: HeadState
    info: WorkflowInfo | None
    info_changed: bool


def plan_append(
    append: PendingAppend,
    state: HeadState,
    info: WorkflowInfo | None,
    timers: TimerDelta,
    history: Callable[[], Sequence[Event]],
) -> AppendPlan:
    """Check ``append`` against ``state`` and fold it into ``info`` and ``timers``.

    ``history`` returns the stored history followed by this batch (needed only on reopen).
    Raises like ``check_append``; ``timers`` is only changed when the append is accepted.
    """
    new_state = check_append(
        append.workflow_id, append.events, append.expected_seq, append.lease, state
    )
    if not _needs_fold(append.events):
        return AppendPlan(new_state, info, info_changed=False)  # most appends: nothing to fold
    new_info = info
    for event in append.events:
        new_info = apply_event(new_info, event)
    scratch = TimerDelta()  # merged only if every event folds: a refusal changes nothing
    for event in append.events:
        scratch.fold(event, history)
    timers.merge(scratch)
    return AppendPlan(new_state, new_info, new_info is not info)


@dataclass(frozen=True, slots=True)
class PendingAppend:
    """One caller's append request, shape-checked."""

    workflow_id: str
    events: tuple[Event, ...]
    expected_seq: int
    lease: Lease

    @classmethod
    def of(
        cls, workflow_id: str, events: Sequence[Event], expected_seq: int, lease: Lease
    ) -> PendingAppend:
        workflow_id = validate_workflow_id(workflow_id)
        if isinstance(expected_seq, bool) or not isinstance(expected_seq, int):
            raise InvalidEventError(
                workflow_id, f"expected_seq must be an int, not {expected_seq!r}"
            )
        batch = tuple(events)
        check_shape(workflow_id, batch, expected_seq)
        return cls(workflow_id, batch, expected_seq, lease)

    def already_stored(self, stored: Sequence[Event]) -> bool:
        """Whether ``stored`` (events from seq ``expected_seq + 1`` on) begins with this batch:
        a retry of an append whose acknowledgement was lost."""
        count = len(self.events)
        return count > 0 and len(stored) >= count and tuple(stored[:count]) == self.events
