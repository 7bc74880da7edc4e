"""The append guard's fast path: appends of ordinary events skip folding visibility and timers,
which is only right while those events really change neither."""

from __future__ import annotations

from aion_ray.model import events as ev
from aion_ray.model.lease import Lease
from aion_ray.model.visibility import VISIBLE_EVENTS, apply_event
from aion_ray.storage.guard import HeadState, PendingAppend, plan_append
from aion_ray.storage.timer_index import TIMER_EVENTS, TimerDelta
from tests.builders import one_of_each

ORDINARY = {
    "ActivityCancelled", "ActivityCompleted", "ActivityFailed", "ActivityHeartbeat",
    "ActivityScheduled", "ActivityStarted", "ChildWorkflowCompleted", "ChildWorkflowFailed",
    "ChildWorkflowStarted", "MarkerRecorded", "SignalReceived", "SignalSent",
    "WorkflowCancelRequested",
}  # fmt: skip


def test_the_fast_path_covers_exactly_the_ordinary_events() -> None:
    folded = VISIBLE_EVENTS | TIMER_EVENTS
    assert {name for name, cls in ev.EVENT_TYPES.items() if cls not in folded} == ORDINARY


def test_ordinary_events_change_neither_visibility_nor_timers() -> None:
    history = one_of_each()
    info = apply_event(None, history[0])
    ordinary = [e for e in history if type(e).__name__ in ORDINARY]
    assert {type(e).__name__ for e in ordinary} == ORDINARY
    for event in ordinary:
        delta = TimerDelta()
        delta.fold(event, lambda: history)
        assert apply_event(info, event) is info, type(event).__name__
        assert not delta.changes, type(event).__name__
        assert not delta.cleared, type(event).__name__


def test_a_batch_with_one_folded_event_among_ordinary_ones_is_folded() -> None:
    history = one_of_each()
    started, rest = history[0], history[1:]
    timer_at = next(i for i, e in enumerate(rest) if isinstance(e, ev.TimerStarted))
    batch = rest[timer_at - 2 : timer_at + 1]  # ordinary events, then the TimerStarted
    timer = rest[timer_at]
    assert isinstance(timer, ev.TimerStarted)
    lease = Lease(workflow_id=started.workflow_id, epoch=1, holder="test")
    append = PendingAppend.of(started.workflow_id, batch, batch[0].seq - 1, lease)
    state = HeadState(head=batch[0].seq - 1, epoch=1, run_id=started.run_id)
    timers = TimerDelta()
    plan = plan_append(append, state, apply_event(None, started), timers, lambda: history)
    assert plan.state.head == batch[-1].seq
    assert list(timers.changes) == [(started.workflow_id, timer.timer_id)]
