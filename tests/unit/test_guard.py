"""The append guard's fast path: appends of ordinary events skip folding visibility and timers,
which is only right while those events really change neither."""

from __future__ import annotations

from datetime import timedelta

from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.lease import Lease
from aion_ray.model.payload import encode
from aion_ray.model.visibility import VISIBLE_EVENTS, apply_event
from aion_ray.storage.guard import HeadState, PendingAppend, plan_append
from aion_ray.storage.timer_index import TIMER_EVENTS, TimerDelta, changes_timers, pending_timers
from tests.builders import T0, HistoryBuilder, one_of_each

ORDINARY = {
    "ActivityCompleted", "ActivityHeartbeat",
    "ActivityScheduled", "ChildWorkflowCompleted", "ChildWorkflowFailed",
    "ChildWorkflowStarted", "MarkerRecorded", "SignalReceived", "SignalSent",
    "WorkflowCancelRequested",
}  # fmt: skip


def test_the_fast_path_covers_exactly_the_ordinary_events() -> None:
    folded = VISIBLE_EVENTS | TIMER_EVENTS
    assert {name for name, cls in ev.EVENT_TYPES.items() if cls not in folded} == ORDINARY


def test_an_activity_retry_time_is_indexed_until_the_next_attempt_starts() -> None:
    b = HistoryBuilder()
    b.started()
    b.add(ev.ActivityScheduled, activity_id=3, activity_type="train", input=encode([]))
    first = b.add(ev.ActivityStarted, activity_id=3, attempt=1)
    failed = b.add(
        ev.ActivityFailed,
        activity_id=3,
        attempt=1,
        error=ErrorInfo(type="ConnectionError", message="flaky"),
        terminal=False,
        retry_at=T0 + timedelta(days=1),
    )
    second = b.add(ev.ActivityStarted, activity_id=3, attempt=2)
    assert not changes_timers(first)  # the hot path: a first attempt never folds
    delta = TimerDelta()
    delta.fold(failed, lambda: b.events)
    (retry,) = [timer for timer in delta.changes.values() if timer is not None]
    assert (retry.timer_id, retry.fire_at, retry.wake) == (-3, T0 + timedelta(days=1), ("retry", 3))
    assert pending_timers(b.events[: failed.seq]) == [retry]
    delta.fold(second, lambda: b.events)
    assert delta.changes == {(failed.workflow_id, -3): None}
    assert pending_timers(b.events) == []


def test_ordinary_events_change_neither_visibility_nor_timers() -> None:
    history = one_of_each()
    info = apply_event(None, history[0])
    ordinary = [e for e in history if type(e).__name__ in ORDINARY]
    ordinary += [e for e in history if isinstance(e, ev.ActivityStarted) and e.attempt == 1]
    assert {type(e).__name__ for e in ordinary} == ORDINARY | {"ActivityStarted"}
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
    # A retry's start and a cancellation (each removes activity 2's retry time), the timer.
    batch = rest[timer_at - 2 : timer_at + 1]
    timer = rest[timer_at]
    assert isinstance(timer, ev.TimerStarted)
    lease = Lease(workflow_id=started.workflow_id, epoch=1, holder="test")
    append = PendingAppend.of(started.workflow_id, batch, batch[0].seq - 1, lease)
    state = HeadState(head=batch[0].seq - 1, epoch=1, run_id=started.run_id)
    timers = TimerDelta()
    plan = plan_append(append, state, apply_event(None, started), timers, lambda: history)
    assert plan.state.head == batch[-1].seq
    assert list(timers.changes) == [(started.workflow_id, -2), (started.workflow_id, 1)]
    assert timers.changes[(started.workflow_id, -2)] is None
