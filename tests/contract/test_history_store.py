"""The HistoryStore contract: appends, reads, fencing, idempotency and the terminal guard.

Every test runs against both stores (see the ``store`` fixture).
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from aion_ray.errors import (
    FencedError,
    InvalidEventError,
    InvalidInputError,
    SequenceConflictError,
    StoreError,
    WorkflowTerminalError,
)
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.payload import encode
from aion_ray.storage import HistoryStore
from tests.builders import (
    T0,
    HistoryBuilder,
    cancelled_history,
    completed_history,
    one_of_each,
)


def append_all(store: HistoryStore, events: list[ev.Event]) -> int:
    lease = store.acquire_lease(events[0].workflow_id)
    return store.append(events[0].workflow_id, events, expected_seq=0, lease=lease)


def test_round_trip_of_every_event_type(store: HistoryStore) -> None:
    history = [*one_of_each()]
    assert append_all(store, history) == len(history)
    assert store.read_history("wf-all") == history
    for other in (completed_history(), cancelled_history()):
        append_all(store, other)
        assert store.read_history(other[0].workflow_id) == other


def test_range_reads(store: HistoryStore) -> None:
    b = HistoryBuilder()
    b.started()
    for i in range(1, 4):
        b.activity(i)
    append_all(store, b.events)
    assert store.read_history("wf-1", 1) == b.events
    assert store.read_history("wf-1", 0) == b.events
    assert store.read_history("wf-1", 5) == b.events[4:]
    assert store.read_history("wf-1", b.head) == [b.events[-1]]
    assert store.read_history("wf-1", b.head + 1) == []
    assert store.read_history("never-started") == []


def test_batches_advance_the_head(store: HistoryStore) -> None:
    b = HistoryBuilder()
    lease = store.acquire_lease("wf-1")
    b.started()
    assert store.append("wf-1", b.since(0), expected_seq=0, lease=lease) == 1
    b.activity(1)
    assert store.append("wf-1", b.since(1), expected_seq=1, lease=lease) == 4
    b.completed()
    assert store.append("wf-1", b.since(4), expected_seq=4, lease=lease) == 5
    assert store.read_history("wf-1") == b.events


def test_empty_batch_at_the_head_is_a_no_op(store: HistoryStore) -> None:
    b = HistoryBuilder()
    b.started()
    append_all(store, b.events)
    lease = store.acquire_lease("wf-1")
    assert store.append("wf-1", [], expected_seq=1, lease=lease) == 1
    with pytest.raises(SequenceConflictError):
        store.append("wf-1", [], expected_seq=0, lease=lease)


def test_stale_expected_seq_writes_nothing(store: HistoryStore) -> None:
    b = HistoryBuilder()
    b.started()
    b.activity(1)
    lease = store.acquire_lease("wf-1")
    store.append("wf-1", b.events, expected_seq=0, lease=lease)
    rival = HistoryBuilder()
    rival.started()
    rival.add(ev.SignalReceived, name="go", payload=encode(1))
    with pytest.raises(SequenceConflictError) as caught:
        store.append("wf-1", rival.since(1), expected_seq=1, lease=lease)
    assert (caught.value.expected, caught.value.found) == (1, 4)
    assert store.read_history("wf-1") == b.events


def test_concurrent_appends_at_one_head_have_one_winner(store: HistoryStore) -> None:
    b = HistoryBuilder()
    b.started()
    lease = store.acquire_lease("wf-1")
    store.append("wf-1", b.events, expected_seq=0, lease=lease)
    outcomes: list[str] = []

    def contender(name: str) -> None:
        mine = HistoryBuilder()
        mine.started()
        mine.add(ev.SignalReceived, name=name, payload=encode(name))
        try:
            store.append("wf-1", mine.since(1), expected_seq=1, lease=lease)
            outcomes.append("won")
        except SequenceConflictError:
            outcomes.append("lost")

    threads = [threading.Thread(target=contender, args=(f"s{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["lost"] * 7 + ["won"]
    assert len(store.read_history("wf-1")) == 2


def test_large_history_round_trip(store: HistoryStore) -> None:
    b = HistoryBuilder()
    b.started()
    for i in range(1, 1001):
        b.activity(i, value={"step": i, "payload": "x" * 200})
    assert append_all(store, b.events) == 3001
    assert store.read_history("wf-1") == b.events


def test_a_newer_lease_fences_the_older_one(store: HistoryStore) -> None:
    b = HistoryBuilder()
    b.started()
    old = store.acquire_lease("wf-1", holder="actor-a")
    new = store.acquire_lease("wf-1", holder="actor-b")
    assert new.epoch == old.epoch + 1
    with pytest.raises(FencedError) as caught:
        store.append("wf-1", b.events, expected_seq=0, lease=old)
    assert (caught.value.epoch, caught.value.current_epoch) == (old.epoch, new.epoch)
    assert store.read_history("wf-1") == []
    assert store.append("wf-1", b.events, expected_seq=0, lease=new) == 1


def test_a_lease_for_another_workflow_is_refused(store: HistoryStore) -> None:
    b = HistoryBuilder()
    b.started()
    other = store.acquire_lease("wf-other")
    with pytest.raises(InvalidEventError, match="lease"):
        store.append("wf-1", b.events, expected_seq=0, lease=other)
    assert store.read_history("wf-1") == []


def test_a_retried_append_that_landed_is_not_duplicated(store: HistoryStore) -> None:
    b = HistoryBuilder()
    b.started()
    b.activity(1)
    lease = store.acquire_lease("wf-1")
    assert store.append("wf-1", b.since(0), expected_seq=0, lease=lease) == 4
    # The acknowledgement was lost; the writer retries the very same batch.
    assert store.append("wf-1", b.since(0), expected_seq=0, lease=lease) == 4
    assert store.read_history("wf-1") == b.events
    # A different batch at the stale head is still a conflict, not a retry.
    other = HistoryBuilder()
    other.started(value="different")
    with pytest.raises(SequenceConflictError):
        store.append("wf-1", other.events, expected_seq=0, lease=lease)


def test_nothing_is_appended_after_a_terminal(store: HistoryStore) -> None:
    events = completed_history("wf-1")
    append_all(store, events)
    lease = store.acquire_lease("wf-1")
    late = ev.SignalReceived(
        workflow_id="wf-1",
        run_id="run-1",
        seq=len(events) + 1,
        recorded_at=events[-1].recorded_at,
        name="late",
        payload=encode(1),
    )
    with pytest.raises(WorkflowTerminalError) as caught:
        store.append("wf-1", [late], expected_seq=len(events), lease=lease)
    assert caught.value.status == "completed"
    assert store.read_history("wf-1") == events


def test_a_terminal_inside_a_batch_stops_the_rest(store: HistoryStore) -> None:
    b = HistoryBuilder()
    b.started()
    b.completed()
    b.add(ev.SignalReceived, name="after", payload=encode(1))
    lease = store.acquire_lease("wf-1")
    with pytest.raises(WorkflowTerminalError):
        store.append("wf-1", b.events, expected_seq=0, lease=lease)
    assert store.read_history("wf-1") == []


def test_continue_as_new_opens_only_the_named_next_run(store: HistoryStore) -> None:
    b = HistoryBuilder()
    b.started()
    b.add(ev.WorkflowContinuedAsNew, workflow_type="pipeline", input=encode(2), next_run_id="run-2")
    append_all(store, b.events)
    lease = store.acquire_lease("wf-1")
    wrong = HistoryBuilder(run_id="run-x")
    wrong.events = list(b.events)
    wrong.started(parent_run_id="run-1")
    with pytest.raises(InvalidEventError, match="continued as run-2"):
        store.append("wf-1", wrong.since(2), expected_seq=2, lease=lease)
    b.run_id = "run-2"
    b.started(value=2, parent_run_id="run-1")
    b.completed()
    assert store.append("wf-1", b.since(2), expected_seq=2, lease=lease) == 4
    info = store.workflow_info("wf-1")
    assert info is not None
    assert (info.run_id, info.status) == ("run-2", "completed")


def test_a_finished_workflow_takes_a_new_run_under_a_run_id_of_its_own(
    store: HistoryStore,
) -> None:
    b = HistoryBuilder()
    b.started()
    b.completed()
    append_all(store, b.events)
    lease = store.acquire_lease("wf-1")
    for run_id, parent in (("run-1", None), ("run-2", "run-1")):
        wrong = HistoryBuilder(run_id=run_id)
        wrong.events = list(b.events)
        wrong.started(parent_run_id=parent)
        with pytest.raises(InvalidEventError, match="new run"):
            store.append("wf-1", wrong.since(2), expected_seq=2, lease=lease)
    b.run_id = "run-2"
    b.started(value="again")
    assert store.append("wf-1", b.since(2), expected_seq=2, lease=lease) == 3
    info = store.workflow_info("wf-1")
    assert info is not None
    assert (info.run_id, info.status, info.closed_at) == ("run-2", "running", None)
    assert store.read_history("wf-1") == b.events


def test_ended_runs_reopen_but_not_completed_ones(store: HistoryStore) -> None:
    b = HistoryBuilder()
    b.started()
    b.failed()
    append_all(store, b.events)
    lease = store.acquire_lease("wf-1")
    b.add(ev.WorkflowReopened, reopened_activities=(1,))
    assert store.append("wf-1", b.since(2), expected_seq=2, lease=lease) == 3
    info = store.workflow_info("wf-1")
    assert info is not None
    assert (info.status, info.closed_at) == ("running", None)
    done = completed_history("wf-2")
    append_all(store, done)
    reopen = ev.WorkflowReopened(
        workflow_id="wf-2", run_id="run-1", seq=len(done) + 1, recorded_at=done[-1].recorded_at
    )
    with pytest.raises(InvalidEventError, match="a completed run cannot be reopened"):
        store.append("wf-2", [reopen], expected_seq=len(done), lease=store.acquire_lease("wf-2"))


def test_a_history_begins_with_workflow_started(store: HistoryStore) -> None:
    b = HistoryBuilder()
    b.add(ev.SignalReceived, name="early", payload=encode(1))
    with pytest.raises(InvalidEventError, match="must begin with WorkflowStarted"):
        append_all(store, b.events)
    assert store.read_history("wf-1") == []


class _HomemadeFailure(ev.WorkflowFailed):
    """Not an event type of the model: the guard dispatches on exact types."""


def _envelope(first: ev.Event, seq: int) -> dict[str, object]:
    return {"workflow_id": first.workflow_id, "run_id": first.run_id, "seq": seq, "recorded_at": T0}


def _subclassed_failure(first: ev.Event) -> ev.Event:
    error = ErrorInfo(type="RuntimeError", message="x")
    return _HomemadeFailure(**_envelope(first, 2), error=error)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda events: [events[0], events[2]], "contiguous"),
        (lambda events: [events[0], events[0]], "contiguous"),
        (lambda events: events[1:], "contiguous"),
        (lambda events: [events[0], events[1].model_copy(update={"workflow_id": "x"})], "belongs"),
        (lambda events: [events[0], {"type": "TimerFired"}], "not an event"),
        (lambda events: [events[0], _subclassed_failure(events[0])], "not an event"),
        (lambda events: [events[0], ev.EventBase(**_envelope(events[0], 2))], "not an event"),
    ],
    ids=["gap", "duplicate", "starts-late", "foreign-workflow", "not-an-event", "subclass", "base"],
)
def test_malformed_batches_write_nothing(store: HistoryStore, mutate: object, message: str) -> None:
    b = HistoryBuilder()
    b.started()
    b.activity(1)
    lease = store.acquire_lease("wf-1")
    with pytest.raises(InvalidEventError, match=message):
        store.append("wf-1", mutate(b.events), expected_seq=0, lease=lease)  # type: ignore[operator]
    assert store.read_history("wf-1") == []


def test_events_of_another_run_are_refused(store: HistoryStore) -> None:
    b = HistoryBuilder()
    b.started()
    b.add(ev.SignalReceived, name="x", payload=encode(1), run_id="run-other")
    with pytest.raises(InvalidEventError, match="current run is run-1"):
        append_all(store, b.events)


def test_one_bad_append_fails_alone(store: HistoryStore) -> None:
    good, bad = HistoryBuilder("good"), HistoryBuilder("bad")
    good.started()
    bad.started()
    bad.completed()
    append_all(store, bad.events)
    errors: list[BaseException] = []

    def write_good() -> None:
        append_all(store, good.events)

    def write_bad() -> None:
        lease = store.acquire_lease("bad")
        late = bad.add(ev.SignalReceived, name="late", payload=encode(0))
        try:
            store.append("bad", [late], expected_seq=2, lease=lease)
        except WorkflowTerminalError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write_good), threading.Thread(target=write_bad)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.read_history("good") == good.events
    assert len(errors) == 1


def test_a_closed_store_refuses_work(store: HistoryStore) -> None:
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.read_history("wf-1")
    with pytest.raises(StoreError, match="closed"):
        store.acquire_lease("wf-1")


def test_async_appends_share_the_contract(store: HistoryStore) -> None:
    async def write(index: int) -> int:
        b = HistoryBuilder(f"async-{index}")
        b.started()
        b.activity(1)
        lease = store.acquire_lease(b.workflow_id)
        head = await store.append_async(b.workflow_id, b.events[:1], expected_seq=0, lease=lease)
        return await store.append_async(b.workflow_id, b.since(1), expected_seq=head, lease=lease)

    async def all_of_them() -> list[int]:
        return await asyncio.gather(*(write(i) for i in range(20)))

    assert asyncio.run(all_of_them()) == [4] * 20
    assert len(store.read_history("async-7")) == 4
    assert asyncio.run(write(3)) == 4  # an identical retry is recognised, not duplicated
    late = HistoryBuilder("async-3")
    late.started()
    late.add(ev.SignalReceived, name="late", payload=encode(0))
    lease = store.acquire_lease("async-3")
    with pytest.raises(SequenceConflictError):
        asyncio.run(store.append_async("async-3", late.since(1), expected_seq=1, lease=lease))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.read_history(""), "non-empty"),
        (lambda s: s.read_history(42), "must be a str"),
        (lambda s: s.read_history("wf-1", "1"), "from_seq must be an int"),
        (lambda s: s.acquire_lease("bad\x00id"), "control characters"),
        (lambda s: s.workflow_info(None), "must be a str"),
        (lambda s: s.read_lifecycle(" padded "), "outer spaces"),
        (lambda s: s.due_timers("2026-01-01"), "aware datetime"),
        (lambda s: s.list_workflows({"status": "running"}), "expected a WorkflowFilter"),
        (lambda s: s.count_workflows("all"), "expected a WorkflowFilter"),
        (lambda s: s.record_lifecycle([{"workflow_id": "wf-1"}]), "invalid lifecycle entry"),
        (lambda s: s.append("", [], expected_seq=0, lease=None), "non-empty"),
        (lambda s: s.append("wf-1", [], expected_seq="0", lease=None), "expected_seq"),
    ],
)
def test_bad_arguments_get_typed_errors(store: HistoryStore, call: Any, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        call(store)
    assert store.list_workflows() == []
    assert store.read_lifecycle("wf-1") == []
