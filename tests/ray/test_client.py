"""The engine on Ray through the client: the paths a user takes, on real Ray and DuckDB."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

import aion_ray as aion
from aion_ray.model import events as ev
from tests.ray import workflows as wf
from tests.ray.conftest import Connect

pytestmark = pytest.mark.ray


def _id() -> str:
    return uuid.uuid4().hex


def test_a_local_and_a_remote_activity_complete(engine: aion.Client) -> None:
    assert engine.start(wf.one_local, 41).result(timeout=30) == 42
    handle = engine.start(wf.one_remote, 21)
    assert handle.result(timeout=30) == 42
    types = [e.type for e in handle.history()]
    assert types == [
        "WorkflowStarted",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivityCompleted",
        "WorkflowCompleted",
    ]
    assert handle.describe().status == aion.WorkflowStatus.COMPLETED


def test_retries_are_recorded_attempt_by_attempt(engine: aion.Client, tmp_path: Path) -> None:
    counter = str(tmp_path / "flaky")
    handle = engine.start(wf.retrying, (counter, 2))
    assert handle.result(timeout=30) == 3
    failed = [e for e in handle.history() if isinstance(e, ev.ActivityFailed)]
    assert [f.attempt for f in failed] == [1, 2]
    assert all(f.error.type == "ConnectionError" for f in failed)


def test_a_terminal_activity_failure_fails_the_workflow_with_its_cause(
    engine: aion.Client,
) -> None:
    handle = engine.start(wf.failing, "bad data")
    with pytest.raises(aion.WorkflowFailedError) as caught:
        handle.result(timeout=30)
    assert "bad data" in str(caught.value)


def test_a_signal_sent_before_the_wait_is_kept(engine: aion.Client) -> None:
    handle = engine.start(wf.waits_for_signal, "go")
    handle.signal("go", "early")
    assert handle.result(timeout=30) == "early"


def test_a_signal_to_a_completed_workflow_is_refused_and_nothing_is_written(
    engine: aion.Client,
) -> None:
    handle = engine.start(wf.one_local, 1)
    handle.result(timeout=30)
    before = handle.history()
    with pytest.raises(aion.WorkflowTerminalError):
        handle.signal("late", 1)
    assert handle.history() == before


def test_queries_answer_a_resident_workflow(engine: aion.Client) -> None:
    handle = engine.start(wf.waits_for_signal, "go")
    assert handle.query("progress") == "waiting"
    with pytest.raises(aion.QueryError):
        handle.query("no-such-query")
    handle.signal("go", 1)
    assert handle.result(timeout=30) == "1"
    with pytest.raises(aion.QueryError):
        handle.query("progress")


def test_cancel_runs_the_compensation(engine: aion.Client, tmp_path: Path) -> None:
    log = tmp_path / "log"
    handle = engine.start(wf.compensating, str(log))
    _wait_for(lambda: log.exists())
    assert handle.cancel("customer left") is True
    with pytest.raises(aion.WorkflowCancelledError):
        handle.result(timeout=30)
    assert log.read_text().split() == ["booked", "refunded"]
    assert handle.cancel() is False


def test_start_is_idempotent_by_id(engine: aion.Client) -> None:
    workflow_id = _id()
    first = engine.start(wf.waits_for_signal, "go", id=workflow_id)
    again = engine.start(wf.waits_for_signal, "go", id=workflow_id)
    assert again.run_id == first.run_id
    with pytest.raises(aion.WorkflowAlreadyStartedError):
        engine.start(wf.waits_for_signal, "other", id=workflow_id)
    with pytest.raises(aion.WorkflowAlreadyStartedError):
        engine.start(wf.one_local, 1, id=workflow_id)
    first.signal("go", "x")
    first.result(timeout=30)
    with pytest.raises(aion.WorkflowAlreadyStartedError):
        engine.start(wf.waits_for_signal, "go", id=workflow_id)
    assert sum(isinstance(e, ev.WorkflowStarted) for e in first.history()) == 1


def test_a_finished_id_takes_a_new_run_when_asked(engine: aion.Client) -> None:
    workflow_id = _id()
    running = engine.start(wf.waits_for_signal, "go", id=workflow_id, new_run=True)
    # While a run is open, asking for a new one returns it (start stays idempotent).
    assert engine.start(wf.waits_for_signal, "go", id=workflow_id, new_run=True).run_id == (
        running.run_id
    )
    running.signal("go", "first")
    assert running.result(timeout=30) == "first"
    with pytest.raises(aion.WorkflowAlreadyStartedError, match="one_local"):
        engine.start(wf.one_local, 1, id=workflow_id, new_run=True)  # another type: refused
    again = engine.start(wf.waits_for_signal, "again", id=workflow_id, new_run=True)
    assert again.run_id != running.run_id
    assert again.describe().status == "running"
    again.signal("again", "second")
    assert again.result(timeout=30) == "second"
    starts = [e for e in again.history() if isinstance(e, ev.WorkflowStarted)]
    assert [e.run_id for e in starts] == [running.run_id, again.run_id]
    assert (again.describe().run_id, again.describe().status) == (again.run_id, "completed")


def test_concurrent_result_waits_share_one_registry_call(engine: aion.Client) -> None:
    done = [engine.start(wf.one_local, i) for i in range(5)]
    for handle in done:
        handle.result(timeout=30)
    waiting = engine.start(wf.waits_for_signal, "go")

    async def wait_all() -> list[object]:
        found = [await engine.get_async(h.workflow_id) for h in done]  # no host known
        unknown = aion.WorkflowHandle(engine, _id())
        slow = await engine.get_async(waiting.workflow_id)
        waits = [h.result_async(timeout=30) for h in found]
        waits += [unknown.result_async(timeout=30), slow.result_async(timeout=0.5)]
        answers: list[object] = await asyncio.gather(*waits, return_exceptions=True)
        return answers

    before = engine.registry.stats().get()["registry"].get("results", 0)
    answers = asyncio.run(wait_all())
    assert answers[:5] == [i + 1 for i in range(5)]
    assert isinstance(answers[5], aion.WorkflowNotFoundError)
    assert isinstance(answers[6], TimeoutError)
    assert engine.registry.stats().get()["registry"]["results"] == before + 1
    waiting.signal("go", 1)
    waiting.result(timeout=30)


def test_timers_and_children_run_on_ray(engine: aion.Client) -> None:
    sleeper = engine.start(wf.sleeps_then_adds, 0.3)
    assert sleeper.result(timeout=30) == 2
    history = sleeper.history()
    armed = next(e for e in history if isinstance(e, ev.TimerStarted))
    fired = next(e for e in history if isinstance(e, ev.TimerFired))
    assert fired.recorded_at >= armed.fire_at  # a durable timer never fires early
    handle = engine.start(wf.parent, 5)
    assert handle.result(timeout=30) == 11
    child = next(e for e in handle.history() if isinstance(e, ev.ChildWorkflowStarted))
    assert engine.get(child.child_workflow_id).result(timeout=30) == 10


def test_an_activity_over_its_timeout_is_cancelled_and_recorded(
    engine: aion.Client, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    handle = engine.start(wf.times_out, str(marker))
    with pytest.raises(aion.WorkflowFailedError, match="timeout"):
        handle.result(timeout=25)
    failed = [e for e in handle.history() if isinstance(e, ev.ActivityFailed)]
    assert [f.error.type for f in failed] == ["TimeoutError"]


def test_cancelling_a_workflow_cancels_its_running_ray_task(
    engine: aion.Client, tmp_path: Path
) -> None:
    marker = tmp_path / "ticks"
    handle = engine.start(wf.cancellable_task, str(marker))
    _wait_for(lambda: marker.exists() and marker.stat().st_size > 20)  # pid line, then ticks
    pid = int(marker.read_text().splitlines()[0])
    assert handle.cancel("stop") is True
    with pytest.raises(aion.WorkflowCancelledError):
        handle.result(timeout=25)
    # The task ticks every 50 ms for 90 s unless it is killed: its file must stop growing
    # and its worker process must end, well within the deadline.
    _wait_for(lambda: _stops_growing(marker), timeout=30)
    _wait_for(lambda: not _process_alive(pid), timeout=30)
    assert not any(isinstance(e, ev.ActivityCompleted) for e in handle.history())


def _stops_growing(path: Path, quiet: float = 0.5) -> bool:
    """Whether ``path`` does not grow for ``quiet`` seconds (ten of the task's ticks)."""
    size = path.stat().st_size
    time.sleep(quiet)
    return path.stat().st_size == size


def _process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed and not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_query_is_answered_while_a_local_activity_runs(
    engine: aion.Client, tmp_path: Path
) -> None:
    release = tmp_path / "release"  # the step runs in the host until the test creates it
    handle = engine.start(wf.busy_locally, str(release))
    assert handle.query("phase") == "working"
    assert handle.describe().status == aion.WorkflowStatus.RUNNING  # still inside the step
    release.touch()
    assert handle.result(timeout=30) == "released"


def test_a_workflow_signals_another(engine: aion.Client) -> None:
    target = engine.start(wf.waits_for_signal, "go")
    assert engine.start(wf.messenger, target.workflow_id).result(timeout=30) == "sent"
    assert target.result(timeout=30) == "from a workflow"


def test_get_list_and_sql(engine: aion.Client) -> None:
    handle = engine.start(wf.one_local, 2, id=_id())
    handle.result(timeout=30)
    found = engine.get(handle.workflow_id)
    assert found.result(timeout=30) == 3
    listed = engine.list(workflow_type="one_local", status="completed")
    assert handle.workflow_id in {info.workflow_id for info in listed}
    table = engine.sql(
        f"select count(*) as n from events where workflow_id = '{handle.workflow_id}'"
    )
    assert table.column("n").to_pylist() == [5]


def test_a_result_wait_can_time_out(engine: aion.Client) -> None:
    handle = engine.start(wf.waits_for_signal, "go")
    with pytest.raises(TimeoutError):
        handle.result(timeout=0.2)
    handle.signal("go", 2)
    assert handle.result(timeout=30) == "2"


def test_async_twins_share_calls(engine: aion.Client) -> None:
    asyncio.run(_async_twins(engine))


async def _async_twins(engine: aion.Client) -> None:
    handles = await asyncio.gather(*(engine.start_async(wf.one_local, i) for i in range(20)))
    results = await asyncio.gather(*(h.result_async(timeout=30) for h in handles))
    assert results == [i + 1 for i in range(20)]
    waiting = await engine.start_async(wf.waits_for_signal, "go")
    assert await waiting.query_async("progress") == "waiting"
    await waiting.signal_async("go", 3)
    assert await waiting.result_async(timeout=30) == "3"
    assert (await waiting.describe_async()).status == aion.WorkflowStatus.COMPLETED


def _wait_for(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_the_default_pool_ceiling_follows_the_cluster_cpus(connect: Connect) -> None:
    client = connect(pool_size=None)  # the session's cluster has 2 CPUs
    assert (client.config.pool_min, client.config.pool_max) == (2, 4)
    assert client.start(wf.one_local, 1).result(timeout=30) == 2
