"""The batched writer: many workflows' appends in one call, an acquiring append for starts and
resumes, lifecycle rows in the same transaction, each request failing alone.

Every test runs against both stores (see the ``store`` fixture).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from aion_ray.errors import (
    FencedError,
    InvalidEventError,
    InvalidInputError,
    SequenceConflictError,
)
from aion_ray.model import events as ev
from aion_ray.model.payload import encode
from aion_ray.model.rows import EncodedEvents
from aion_ray.model.store import AppendRequest, LifecycleEntry
from aion_ray.storage import HistoryStore
from tests.builders import T0, HistoryBuilder, one_of_each


def started(workflow_id: str, run_id: str = "run-1") -> HistoryBuilder:
    b = HistoryBuilder(workflow_id, run_id=run_id)
    b.started()
    return b


def placed(workflow_id: str) -> LifecycleEntry:
    return LifecycleEntry(workflow_id=workflow_id, recorded_at=T0, kind="resident")


def test_a_start_takes_its_lease_and_logs_its_placement_in_one_request(
    store: HistoryStore,
) -> None:
    b = started("wf-a")
    b.activity(1)
    request = AppendRequest("wf-a", b.events, 0, acquire="host-1", lifecycle=[placed("wf-a")])
    (result,) = store.append_batch([request])
    assert result.ok
    assert result.head == len(b.events)
    assert result.lease is not None
    assert (result.lease.epoch, result.lease.holder) == (1, "host-1")
    assert store.read_history("wf-a") == b.events
    assert [entry.kind for entry in store.read_lifecycle("wf-a")] == ["resident"]
    b.completed()
    assert store.append("wf-a", b.since(4), expected_seq=4, lease=result.lease) == 5


def test_a_start_of_a_taken_id_fails_and_fences_nobody(store: HistoryStore) -> None:
    first = started("wf-a")
    (landed,) = store.append_batch([AppendRequest("wf-a", first.events, 0, acquire="host-1")])
    rival = HistoryBuilder("wf-a", run_id="run-2")
    rival.started()
    request = AppendRequest("wf-a", rival.events, 0, acquire="host-2", lifecycle=[placed("wf-a")])
    (refused,) = store.append_batch([request])
    assert isinstance(refused.error, SequenceConflictError)
    assert refused.lease is None
    assert store.read_history("wf-a") == first.events
    assert store.read_lifecycle("wf-a") == []
    first.activity(1)  # the first holder's lease is still good
    assert landed.lease is not None
    assert store.append("wf-a", first.since(1), expected_seq=1, lease=landed.lease) == 4


def test_a_retried_start_that_landed_is_recognised(store: HistoryStore) -> None:
    """An acknowledgement lost on the way back: the same start sent again succeeds with the
    lease it took, and logs nothing twice."""
    b = started("wf-a")
    request = AppendRequest("wf-a", b.events, 0, acquire="host-1", lifecycle=[placed("wf-a")])
    (first,) = store.append_batch([request])
    (retry,) = store.append_batch([request])
    assert retry.ok
    assert (retry.head, retry.lease) == (first.head, first.lease)
    assert len(store.read_lifecycle("wf-a")) == 1
    assert store.read_history("wf-a") == b.events


def test_a_resume_takes_the_lease_at_the_head_it_read(store: HistoryStore) -> None:
    b = started("wf-a")
    (start,) = store.append_batch([AppendRequest("wf-a", b.events, 0, acquire="old")])
    (resume,) = store.append_batch([AppendRequest("wf-a", [], 1, acquire="new")])
    assert resume.ok
    assert resume.lease is not None
    assert resume.lease.epoch == 2
    b.activity(1)
    assert start.lease is not None
    with pytest.raises(FencedError):
        store.append("wf-a", b.since(1), expected_seq=1, lease=start.lease)
    (stale,) = store.append_batch([AppendRequest("wf-a", [], 0, acquire="late")])
    assert isinstance(stale.error, SequenceConflictError)
    assert store.append("wf-a", b.since(1), expected_seq=1, lease=resume.lease) == 4


def test_each_request_of_a_batch_fails_alone(store: HistoryStore) -> None:
    good, conflict, malformed = started("wf-good"), started("wf-conflict"), started("wf-bad")
    store.append_batch([AppendRequest("wf-conflict", conflict.events, 0, acquire="h")])
    wrong_seq = malformed.events[0].model_copy(update={"seq": 7})
    results = store.append_batch(
        [
            AppendRequest("wf-good", good.events, 0, acquire="h", lifecycle=[placed("wf-good")]),
            AppendRequest("wf-conflict", started("wf-conflict", "run-2").events, 0, acquire="h"),
            AppendRequest("wf-bad", [wrong_seq], 0, acquire="h", lifecycle=[placed("wf-bad")]),
        ]
    )
    assert [type(r.error) for r in results] == [
        type(None),
        SequenceConflictError,
        InvalidEventError,
    ]
    assert store.read_history("wf-good") == good.events
    assert store.read_history("wf-bad") == []
    assert store.read_lifecycle("wf-bad") == []
    # The refused acquisition took no lease: the next one is the id's first.
    (retry,) = store.append_batch([AppendRequest("wf-bad", malformed.events, 0, acquire="h")])
    assert retry.lease is not None
    assert retry.lease.epoch == 1


def test_two_requests_for_one_workflow_in_a_batch_apply_in_order(store: HistoryStore) -> None:
    b = started("wf-a")
    (start,) = store.append_batch([AppendRequest("wf-a", b.events, 0, acquire="h")])
    assert start.lease is not None
    b.activity(1)
    b.completed()
    first, second = store.append_batch(
        [
            AppendRequest("wf-a", b.events[1:4], 1, lease=start.lease),
            AppendRequest("wf-a", b.events[4:], 4, lease=start.lease),
        ]
    )
    assert (first.head, second.head) == (4, 5)
    assert store.read_history("wf-a") == b.events


def test_async_batches_share_the_contract(store: HistoryStore) -> None:
    async def main() -> list[Any]:
        builders = [started(f"wf-{i}") for i in range(5)]
        requests = [AppendRequest(b.workflow_id, b.events, 0, acquire="h") for b in builders]
        results = await store.append_batch_async(requests)
        rival = started("wf-0", "run-2")
        again = await store.append_batch_async(
            [AppendRequest("wf-0", rival.events, 0, acquire="h")]
        )
        return [*results, *again]

    results = asyncio.run(main())
    assert [r.ok for r in results] == [True] * 5 + [False]
    assert isinstance(results[-1].error, SequenceConflictError)
    assert store.count_workflows() == 5


def _lease(store: HistoryStore) -> Any:
    return store.acquire_lease("wf-x")


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        ("not a list", "needs a sequence of AppendRequest"),
        ([("wf-a", [], 0)], "request 1 is not an AppendRequest"),
        ([AppendRequest("wf-a", [], 0)], "needs either a lease or an acquire holder name"),
        ([AppendRequest("wf-a", [], 0, acquire=7)], "acquire must be a holder name"),  # type: ignore[arg-type]
        (
            [AppendRequest("wf-a", [], 0, acquire="h", lifecycle=["x"])],  # type: ignore[list-item]
            "invalid lifecycle entry",
        ),
    ],
)
def test_bad_batches_are_refused_whole(store: HistoryStore, requests: Any, message: str) -> None:
    b = started("wf-ok")
    batch = [AppendRequest("wf-ok", b.events, 0, acquire="h"), *requests]
    if isinstance(requests, str):
        batch = requests  # type: ignore[assignment]
    with pytest.raises(InvalidInputError, match=message):
        store.append_batch(batch)
    assert store.read_history("wf-ok") == []
    assert store.count_workflows() == 0


def test_a_lease_and_an_acquire_together_are_refused(store: HistoryStore) -> None:
    lease = _lease(store)
    with pytest.raises(InvalidInputError, match="not both or neither"):
        store.append_batch([AppendRequest("wf-x", [], 0, lease=lease, acquire="h")])
    assert store.read_lifecycle("wf-x") == []


def test_the_terminal_rule_holds_for_batches_too(store: HistoryStore) -> None:
    b = started("wf-a")
    b.completed()
    (start,) = store.append_batch([AppendRequest("wf-a", b.events, 0, acquire="h")])
    assert start.lease is not None
    late = b.add(ev.SignalReceived, name="late", payload=encode(1))
    (refused,) = store.append_batch([AppendRequest("wf-a", [late], 2, lease=start.lease)])
    assert refused.error is not None
    assert "completed" in str(refused.error)
    assert store.read_history("wf-a") == b.events[:2]


def test_events_sent_encoded_are_stored_as_if_sent_as_models(store: HistoryStore) -> None:
    history = one_of_each("wf-enc")
    encoded = EncodedEvents.of("wf-enc", history)
    (result,) = store.append_batch([AppendRequest("wf-enc", encoded, 0, acquire="h")])
    assert result.ok
    assert result.head == len(history)
    assert store.read_history("wf-enc") == history
    info = store.workflow_info("wf-enc")
    assert info is not None
    assert info.search_attributes == {"team": "ml", "tags": ["a", "b"], "n": 3}
    rows = store.sql("SELECT data FROM events WHERE workflow_id = 'wf-enc' ORDER BY seq")
    assert rows.column("data").to_pylist() == [row[4] for row in encoded.rows]


def test_a_retried_encoded_append_is_recognised(store: HistoryStore) -> None:
    b = started("wf-a")
    (start,) = store.append_batch([AppendRequest("wf-a", b.events, 0, acquire="h")])
    b.activity(1)
    again = AppendRequest("wf-a", EncodedEvents.of("wf-a", b.since(1)), 1, lease=start.lease)
    first, retry = store.append_batch([again, again])
    assert (first.head, retry.head) == (4, 4)
    assert store.read_history("wf-a") == b.events


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda row: (row[0], "NoSuchEvent", *row[2:]), "corrupt encoded events"),
        (lambda row: (*row[:4], '{"input": 7'), "corrupt encoded events"),
        (lambda row: (5, *row[1:]), "seqs must be contiguous"),
        (lambda row: (*row[:3], 10**20, row[4]), "corrupt encoded events"),
        (lambda row: (*row[:4], '{"seq": 1, ' + row[4][1:]), "decodes otherwise"),
    ],
)
def test_corrupt_encoded_events_fail_their_request_alone(
    store: HistoryStore, mangle: Any, message: str
) -> None:
    good, bad = started("wf-good"), started("wf-bad")
    rows = EncodedEvents.of("wf-bad", bad.events).rows
    rows = ((2, *rows[0][1:]),) if "decodes" in message else rows  # the data then says seq 1
    broken = EncodedEvents("wf-bad", (mangle(rows[0]),))
    results = store.append_batch(
        [
            AppendRequest("wf-good", EncodedEvents.of("wf-good", good.events), 0, acquire="h"),
            AppendRequest("wf-bad", broken, 0, acquire="h"),
        ]
    )
    assert results[0].ok
    assert isinstance(results[1].error, InvalidEventError)
    assert message in str(results[1].error)
    assert store.read_history("wf-bad") == []
    assert store.read_history("wf-good") == good.events


def test_encoded_events_of_another_workflow_are_refused(store: HistoryStore) -> None:
    other = started("wf-other")
    encoded = EncodedEvents.of("wf-other", other.events)
    (result,) = store.append_batch([AppendRequest("wf-a", encoded, 0, acquire="h")])
    assert isinstance(result.error, InvalidEventError)
    assert "belong to workflow 'wf-other'" in str(result.error)
    assert store.read_history("wf-a") == store.read_history("wf-other") == []
