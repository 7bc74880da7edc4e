"""The suspension index: open workflows whose newest suspension is still their last word.

A suspension is a ``suspended`` lifecycle entry (``SuspendedWorkflow.entry``), recorded on its
own or riding on an append; any later append to the workflow drops it. Every test runs
against both stores (see the ``store`` fixture).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from aion_ray.errors import InvalidInputError
from aion_ray.model import events as ev
from aion_ray.model.lease import Lease
from aion_ray.model.payload import encode
from aion_ray.model.store import AppendRequest, LifecycleEntry, SuspendedWorkflow
from aion_ray.storage import HistoryStore
from tests.builders import T0, HistoryBuilder

WAKE = T0 + timedelta(days=7)


def running(store: HistoryStore, workflow_id: str, run_id: str = "run-1") -> HistoryBuilder:
    """A workflow started and waiting on a timer (head 2), appended to ``store``."""
    b = HistoryBuilder(workflow_id, run_id=run_id)
    b.started()
    b.timer(1, 7 * 86400)
    (result,) = store.append_batch([AppendRequest(workflow_id, b.events, 0, acquire="host-1")])
    assert result.ok, result.error
    return b


def lease_of(store: HistoryStore, workflow_id: str) -> Lease:
    return store.acquire_lease(workflow_id, holder="host-2")


def suspension(b: HistoryBuilder, host: str = "host-1", **fields: Any) -> SuspendedWorkflow:
    values: dict[str, Any] = {
        "workflow_id": b.workflow_id,
        "run_id": b.run_id,
        "head": b.head,
        "wake_at": WAKE,
        "host": host,
    }
    return SuspendedWorkflow(**{**values, **fields})


def signal(b: HistoryBuilder) -> None:
    b.add(ev.SignalReceived, name="approve", payload=encode(True))


def test_a_suspension_at_the_head_is_listed(store: HistoryStore) -> None:
    b = running(store, "wf-1")
    parked = suspension(b)
    store.record_lifecycle([parked.entry(T0)])
    assert store.suspended_workflows() == [parked]
    (found,) = store.suspended_workflows()
    assert (found.head, found.wake_at, found.host, found.run_id) == (2, WAKE, "host-1", "run-1")
    assert [e.kind for e in store.read_lifecycle("wf-1")] == ["suspended"]  # logged as well


def test_a_suspension_without_a_wake_is_listed_with_none(store: HistoryStore) -> None:
    b = running(store, "wf-1")
    store.record_lifecycle([suspension(b, wake_at=None).entry(T0)])
    assert [s.wake_at for s in store.suspended_workflows()] == [None]


def test_an_append_after_the_suspension_drops_it(store: HistoryStore) -> None:
    b = running(store, "wf-1")
    store.record_lifecycle([suspension(b).entry(T0)])
    signal(b)
    store.append("wf-1", b.since(2), expected_seq=2, lease=lease_of(store, "wf-1"))
    assert store.suspended_workflows() == []


def test_taking_a_lease_alone_keeps_the_suspension(store: HistoryStore) -> None:
    b = running(store, "wf-1")
    store.record_lifecycle([suspension(b).entry(T0)])
    store.acquire_lease("wf-1", holder="registry")
    (result,) = store.append_batch([AppendRequest("wf-1", [], 2, acquire="registry")])
    assert result.ok
    assert [s.workflow_id for s in store.suspended_workflows()] == ["wf-1"]


def test_a_stale_suspension_is_not_listed(store: HistoryStore) -> None:
    b = running(store, "wf-1")
    stale = suspension(b)  # head 2, recorded only after the history moved on
    signal(b)
    store.append("wf-1", b.since(2), expected_seq=2, lease=lease_of(store, "wf-1"))
    store.record_lifecycle([stale.entry(T0)])
    assert store.suspended_workflows() == []


def test_a_suspension_of_another_run_is_not_listed(store: HistoryStore) -> None:
    b = running(store, "wf-1")
    store.record_lifecycle([suspension(b, run_id="run-0").entry(T0)])
    assert store.suspended_workflows() == []


def test_a_suspension_of_an_unknown_workflow_is_logged_not_listed(store: HistoryStore) -> None:
    entry = SuspendedWorkflow(workflow_id="wf-x", run_id="r", head=3, host="h").entry(T0)
    store.record_lifecycle([entry])
    assert store.read_lifecycle("wf-x") == [entry]
    assert store.suspended_workflows() == []


def test_the_newest_suspension_replaces_an_older_one(store: HistoryStore) -> None:
    b = running(store, "wf-1")
    store.record_lifecycle([suspension(b).entry(T0)])
    signal(b)
    store.append("wf-1", b.since(2), expected_seq=2, lease=lease_of(store, "wf-1"))
    again = suspension(b, host="host-7", wake_at=None)
    store.record_lifecycle([again.entry(T0 + timedelta(seconds=5))])
    assert store.suspended_workflows() == [again]
    newer = suspension(b, host="host-8")  # the same head, suspended once more
    store.record_lifecycle([newer.entry(T0 + timedelta(seconds=9))])
    assert store.suspended_workflows() == [newer]


def test_a_closed_workflow_is_not_listed(store: HistoryStore) -> None:
    b = running(store, "wf-1")
    store.record_lifecycle([suspension(b).entry(T0)])
    b.completed()
    store.append("wf-1", b.since(2), expected_seq=2, lease=lease_of(store, "wf-1"))
    assert store.suspended_workflows() == []
    store.record_lifecycle([suspension(b).entry(T0)])  # at the terminal head: not open
    assert store.suspended_workflows() == []


def test_a_suspension_riding_on_an_append_is_at_that_appends_head(store: HistoryStore) -> None:
    b = running(store, "wf-1")
    lease = lease_of(store, "wf-1")
    signal(b)
    parked = suspension(b)  # head 3: after the signal it rides with
    request = AppendRequest("wf-1", b.since(2), 2, lease=lease, lifecycle=[parked.entry(T0)])
    (result,) = store.append_batch([request])
    assert result.ok
    assert store.suspended_workflows() == [parked]


def test_order_within_one_batch_decides(store: HistoryStore) -> None:
    first, second = running(store, "wf-1"), running(store, "wf-2")
    lease1, lease2 = lease_of(store, "wf-1"), lease_of(store, "wf-2")
    parked1, parked2 = suspension(first), suspension(second)
    signal(first)
    signal(second)
    results = store.append_batch(
        [
            # wf-1: suspended, then something arrives in the same batch: not suspended.
            AppendRequest("wf-1", [], 2, lease=lease1, lifecycle=[parked1.entry(T0)]),
            AppendRequest("wf-1", first.since(2), 2, lease=lease1),
            # wf-2: something arrives, then a suspension at the new head: suspended.
            AppendRequest("wf-2", second.since(2), 2, lease=lease2),
            AppendRequest("wf-2", [], 3, lease=lease2, lifecycle=[suspension(second).entry(T0)]),
        ]
    )
    assert all(r.ok for r in results), results
    assert [s.workflow_id for s in store.suspended_workflows()] == ["wf-2"]
    assert store.suspended_workflows()[0].head == 3 != parked2.head


def test_a_refused_append_leaves_the_suspension(store: HistoryStore) -> None:
    b = running(store, "wf-1")
    store.record_lifecycle([suspension(b).entry(T0)])
    signal(b)
    stale = Lease(workflow_id="wf-1", epoch=1)  # the start's, fenced by the next one
    lease_of(store, "wf-1")
    (result,) = store.append_batch([AppendRequest("wf-1", b.since(2), 2, lease=stale)])
    assert not result.ok
    assert [s.workflow_id for s in store.suspended_workflows()] == ["wf-1"]


def test_pages_by_workflow_id(store: HistoryStore) -> None:
    for workflow_id in ["wf-c", "wf-a", "wf-d", "wf-b"]:
        store.record_lifecycle([suspension(running(store, workflow_id)).entry(T0)])
    ids = [s.workflow_id for s in store.suspended_workflows()]
    assert ids == ["wf-a", "wf-b", "wf-c", "wf-d"]
    assert [s.workflow_id for s in store.suspended_workflows(limit=2)] == ["wf-a", "wf-b"]
    page = store.suspended_workflows(after="wf-b", limit=10)
    assert [s.workflow_id for s in page] == ["wf-c", "wf-d"]
    assert store.suspended_workflows(after="wf-d") == []
    assert store.suspended_workflows(limit=0) == []


def test_suspended_workflows_are_not_new_workflows(store: HistoryStore) -> None:
    b = running(store, "wf-1")
    store.record_lifecycle([suspension(b).entry(T0)])
    assert [info.workflow_id for info in store.list_workflows()] == ["wf-1"]
    assert store.read_history("wf-1") == b.events


@pytest.mark.parametrize(
    ("run_id", "detail", "named"),
    [
        (None, {"head": 2, "host": "h", "wake_at": None}, "run_id"),
        ("run-1", {"host": "h", "wake_at": None}, "head"),
        ("run-1", {"head": "2", "host": "h"}, "head"),
        ("run-1", {"head": 0, "host": "h"}, "head"),
        ("run-1", {"head": 2, "wake_at": None}, "host"),
        ("run-1", {"head": 2, "host": "h", "wake_at": "next tuesday"}, "wake_at"),
        ("run-1", {"head": 2, "host": "h", "wake_at": "2026-12-01T00:00:00"}, "wake_at"),
    ],
)
def test_a_malformed_suspension_is_refused_and_nothing_is_written(
    store: HistoryStore, run_id: str | None, detail: dict[str, Any], named: str
) -> None:
    b = running(store, "wf-1")
    bad = LifecycleEntry(
        workflow_id="wf-1", run_id=run_id, recorded_at=T0, kind="suspended", detail=detail
    )
    fine = LifecycleEntry(workflow_id="wf-1", recorded_at=T0, kind="resident")
    with pytest.raises(InvalidInputError, match=named):
        store.record_lifecycle([fine, bad])
    signal(b)
    request = AppendRequest("wf-1", b.since(2), 2, lease=lease_of(store, "wf-1"), lifecycle=[bad])
    with pytest.raises(InvalidInputError, match=named):
        store.append_batch([request])
    assert store.read_lifecycle("wf-1") == []
    assert store.read_history("wf-1") == b.events[:2]
    assert store.suspended_workflows() == []


@pytest.mark.parametrize(
    ("after", "limit"), [(3, None), (None, -1), (None, 1.5), (None, True), (b"wf", None)]
)
def test_a_bad_page_is_refused(store: HistoryStore, after: Any, limit: Any) -> None:
    with pytest.raises(InvalidInputError):
        store.suspended_workflows(after=after, limit=limit)


def test_the_entry_round_trips() -> None:
    parked = SuspendedWorkflow(workflow_id="wf-1", run_id="r", head=4, wake_at=WAKE, host="h")
    entry = parked.entry(T0)
    assert (entry.kind, entry.detail["wake_at"]) == ("suspended", WAKE.isoformat())
    assert SuspendedWorkflow.of_entry(entry) == parked
