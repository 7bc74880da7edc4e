"""Residency: workflows blocked on durable waits are suspended to history and come back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import aion_ray as aion
from aion_ray.engine.results import LONGEST_WAIT
from tests.ray import workflows as wf
from tests.ray.conftest import Connect

pytestmark = pytest.mark.ray


def _eventually(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def _suspended(handle: aion.WorkflowHandle[object]) -> Callable[[], bool]:
    return lambda: handle.describe().residency == "suspended"


def _lifecycle(client: aion.Client, workflow_id: str) -> list[str]:
    table = client.sql(
        f"select kind from lifecycle where workflow_id = '{workflow_id}' order by recorded_at"
    )
    return [str(kind) for kind in table.column("kind").to_pylist()]


@pytest.fixture
def parking(connect: Connect) -> aion.Client:
    return connect(idle_timeout=0.2, pool_size=(1, 4))


def test_a_result_wait_held_by_the_host_follows_the_workflow_it_suspends(
    connect: Connect,
) -> None:
    parking = connect(idle_timeout=0.2, pool_size=(2, 4))  # a floor that keeps the host alive
    handle = parking.start(wf.waits_for_signal, "go")

    def registry_waits() -> int:
        return int(parking.registry.stats().get()["registry"].get("result", 0))

    before = registry_waits()
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(handle.result, 30)  # held by the host the workflow started on
        _eventually(_suspended(handle))
        # The host lets the wait go as it suspends the workflow (not when its own bound of
        # LONGEST_WAIT seconds runs out): the wait moves to the registry.
        _eventually(lambda: registry_waits() == before + 1, timeout=LONGEST_WAIT / 2)
        parking.get(handle.workflow_id).signal("go", "after the move")
        assert waiting.result(timeout=30) == "after the move"


def test_a_signal_brings_a_suspended_workflow_back(parking: aion.Client) -> None:
    handle = parking.start(wf.waits_for_signal, "go")
    _eventually(_suspended(handle))
    handle.signal("go", "welcome back")
    assert handle.result(timeout=30) == "welcome back"
    assert _lifecycle(parking, handle.workflow_id) == ["resident", "suspended", "resident"]


def test_a_workflows_signal_brings_a_suspended_one_back(parking: aion.Client) -> None:
    target = parking.start(wf.waits_for_signal, "go")
    _eventually(_suspended(target))
    assert parking.start(wf.messenger, target.workflow_id).result(timeout=30) == "sent"
    assert target.result(timeout=30) == "from a workflow"


def test_a_due_timer_brings_a_suspended_workflow_back(parking: aion.Client) -> None:
    # The timer must fall due after the 0.2 s idle timeout has suspended the workflow: 5 s
    # leaves a slow machine 25 times the idle timeout to get there.
    handle = parking.start(wf.sleeps_then_adds, 5.0)
    _eventually(_suspended(handle))
    assert handle.result(timeout=30) == 2
    assert "suspended" in _lifecycle(parking, handle.workflow_id)


def test_a_query_is_answered_after_the_replay(parking: aion.Client) -> None:
    handle = parking.start(wf.waits_for_signal, "go")
    _eventually(_suspended(handle))
    assert handle.query("progress") == "waiting"
    handle.signal("go", 1)
    assert handle.result(timeout=30) == "1"


def test_a_cancel_reaches_a_suspended_workflow_and_its_compensation_runs(
    parking: aion.Client, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    handle = parking.start(wf.compensating, str(log))
    _eventually(_suspended(handle))
    assert handle.cancel("too late") is True
    with pytest.raises(aion.WorkflowCancelledError):
        handle.result(timeout=30)
    assert log.read_text().split() == ["booked", "refunded"]


def test_a_childs_completion_brings_its_suspended_parent_back(parking: aion.Client) -> None:
    child_id = uuid.uuid4().hex
    parent = parking.start(wf.parent_of_waiter, child_id)
    _eventually(lambda: parking.list(workflow_type="waits_for_signal") != [])
    child = parking.get(child_id)
    _eventually(_suspended(parent))
    _eventually(_suspended(child))
    child.signal("go", "hello")
    assert parent.result(timeout=30) == "child said hello"


def test_a_signal_to_a_suspended_completed_workflow_is_refused(parking: aion.Client) -> None:
    handle = parking.start(wf.one_local, 1)
    handle.result(timeout=30)
    before = handle.history()
    with pytest.raises(aion.WorkflowTerminalError):
        handle.signal("late", 1)
    assert handle.history() == before


def test_a_full_pool_suspends_the_least_recently_active_waiting_workflow(
    connect: Connect,
) -> None:
    client = connect(idle_timeout=600, pool_size=(1, 1))
    older = client.start(wf.waits_for_signal, "go")
    newer = client.start(wf.waits_for_signal, "go")  # the only actor is busy: older leaves
    assert older.describe().residency == "suspended"
    assert client.start(wf.one_local, 5).result(timeout=30) == 6
    newer.signal("go", "b")
    older.signal("go", "a")
    assert (older.result(timeout=30), newer.result(timeout=30)) == ("a", "b")
