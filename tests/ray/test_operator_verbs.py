"""Operator verbs on Ray: terminate (a resident workflow with a running Ray task, a suspended
one, many by filter), per-run execution timeouts, pause and resume, reopen, and the wrong
states each refuses."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

import aion_ray as aion
from aion_ray.model import events as ev
from tests.ray import operator_workflows as ow
from tests.ray import workflows as wf
from tests.ray.conftest import Connect, host_pid, kill_host

pytestmark = pytest.mark.ray


def _wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed and not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _quiet(path: Path, seconds: float = 0.5) -> bool:
    """Whether ``path`` stops growing for ``seconds`` (ten of the task's 50 ms ticks)."""
    size = path.stat().st_size
    time.sleep(seconds)
    return path.stat().st_size == size


def _pid_or_none(client: aion.Client, workflow_id: str) -> int | None:
    """The pid of the workflow's host; None while it has none that answers."""
    try:
        return host_pid(client, workflow_id)
    except (aion.AionError, AssertionError):
        return None


def test_terminate_ends_a_workflow_and_kills_its_running_ray_task(
    engine: aion.Client, tmp_path: Path
) -> None:
    marker = tmp_path / "ticks"
    handle = engine.start(wf.cancellable_task, str(marker))
    _wait_for(lambda: marker.exists() and marker.stat().st_size > 20)  # pid line, then ticks
    pid = int(marker.read_text().splitlines()[0])
    handle.terminate("runaway")
    with pytest.raises(aion.WorkflowTerminatedError, match="runaway"):
        handle.result(timeout=25)
    _wait_for(lambda: _quiet(marker), timeout=30)
    _wait_for(lambda: not _alive(pid), timeout=30)
    history = handle.history()
    assert history[-1].type == "WorkflowTerminated"
    assert not any(isinstance(e, ev.ActivityCompleted) for e in history)
    assert handle.describe().status == aion.WorkflowStatus.TERMINATED
    with pytest.raises(aion.WorkflowTerminalError, match="terminated"):
        handle.terminate("again")
    assert len(handle.history()) == len(history)  # the refusal wrote nothing


def test_terminate_async_of_a_suspended_workflow_is_recorded_by_the_registry(
    engine: aion.Client,
) -> None:
    handle = engine.start(wf.parks_quickly, "never", id=uuid.uuid4().hex)
    _wait_for(lambda: handle.describe().residency == "suspended")
    asyncio.run(handle.terminate_async("parked too long"))
    with pytest.raises(aion.WorkflowTerminatedError, match="parked too long"):
        handle.result(timeout=25)
    assert handle.history()[-1].type == "WorkflowTerminated"
    fresh = engine.get(handle.workflow_id)  # no host known: the registry answers
    with pytest.raises(aion.WorkflowTerminalError, match="terminated"):
        fresh.terminate("again")


def test_the_many_forms_apply_their_verb_to_what_the_filter_matches(
    connect: Callable[..., aion.Client],
) -> None:
    client = connect()
    kind = wf.waits_for_signal.name
    handles = [client.start(wf.waits_for_signal, "go") for _ in range(3)]
    other = client.start(wf.answers, 1)  # running, of another type
    done = client.start(wf.one_local, 1)
    done.result(timeout=30)
    with pytest.raises(aion.InvalidInputError, match="filter"):
        client.pause_many(status="bogus")
    with pytest.raises(aion.InvalidInputError, match="workflow_type"):
        client.reopen_many(workflow_type="")
    with pytest.raises(aion.InvalidInputError, match="cancel reason"):
        client.cancel_many(reason="")
    assert client.pause_many(workflow_type=kind) == 3
    assert client.pause_many(workflow_type=kind) == 0  # paused already: none is touched
    assert asyncio.run(client.resume_many_async(status="paused")) == 3
    assert client.terminate_many(status="running", workflow_type=kind) == 3
    for handle in handles:
        with pytest.raises(aion.WorkflowTerminatedError):
            handle.result(timeout=25)
    assert other.describe().status == aion.WorkflowStatus.RUNNING
    assert client.reopen_many(workflow_type=kind) == 3
    assert asyncio.run(client.cancel_many_async(workflow_type=kind, reason="bulk")) == 3
    for handle in handles:
        with pytest.raises(aion.WorkflowCancelledError):
            handle.result(timeout=25)
    assert client.terminate_many(status="running") == 1
    assert client.terminate_many() == 0  # every one has ended: none is touched
    assert client.resume_many() == 0
    assert done.describe().status == aion.WorkflowStatus.COMPLETED
    assert client.reopen_many(status="completed") == 0  # a completed run does not reopen


def test_execution_timeout_times_out_the_run_and_kills_its_ray_task(
    engine: aion.Client, tmp_path: Path
) -> None:
    marker = tmp_path / "ticks"
    handle = engine.start(wf.cancellable_task, str(marker), execution_timeout=3)
    _wait_for(lambda: marker.exists() and marker.stat().st_size > 20)
    pid = int(marker.read_text().splitlines()[0])
    with pytest.raises(aion.WorkflowTimedOutError, match=r"3\.0s"):
        handle.result(timeout=25)
    _wait_for(lambda: not _alive(pid), timeout=30)
    started = handle.history()[0]
    assert isinstance(started, ev.WorkflowStarted)
    assert started.execution_timeout == 3.0


def test_a_bad_execution_timeout_is_refused_before_anything_is_written(
    engine: aion.Client,
) -> None:
    workflow_id = uuid.uuid4().hex
    with pytest.raises(aion.InvalidInputError, match="execution_timeout"):
        engine.start(wf.one_local, 1, id=workflow_id, execution_timeout=-1)
    with pytest.raises(aion.WorkflowNotFoundError):
        engine.get(workflow_id)


def test_execution_timeout_holds_for_a_start_the_registry_places(engine: aion.Client) -> None:
    workflow_id = uuid.uuid4().hex
    first = engine.start(wf.waits_for_signal, "go", id=workflow_id)
    first.signal("go", "x")
    assert first.result(timeout=30) == "x"
    # A new run of an ended id goes through the registry, not straight to a host.
    again = engine.start(
        wf.waits_for_signal, "go", id=workflow_id, new_run=True, execution_timeout=1
    )
    with pytest.raises(aion.WorkflowTimedOutError):
        again.result(timeout=25)


def test_a_pause_holds_an_activity_back_and_resume_lets_it_run(
    engine: aion.Client, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    handle = engine.start(ow.signalled_record, str(out))
    handle.pause("investigating")
    assert handle.describe().status == aion.WorkflowStatus.PAUSED
    with pytest.raises(aion.WorkflowStateError, match="paused"):
        handle.pause("twice")
    handle.signal("go", "ran")  # durable when it returns, with what the workflow asked for
    names = [e.type for e in handle.history()]
    assert "ActivityScheduled" in names
    assert "ActivityStarted" not in names
    assert not out.exists()
    handle.resume()
    assert handle.result(timeout=25) == "ran"
    assert out.read_text() == "ran\n"
    with pytest.raises(aion.WorkflowTerminalError, match="completed"):
        handle.resume()


def test_a_suspended_workflow_is_paused_and_resumed_through_the_registry(
    engine: aion.Client,
) -> None:
    handle = engine.start(wf.parks_quickly, "go", id=uuid.uuid4().hex)
    _wait_for(lambda: handle.describe().residency == "suspended")
    fresh = engine.get(handle.workflow_id)  # no host known: the registry answers
    with pytest.raises(aion.WorkflowStateError, match="running"):
        fresh.resume()
    asyncio.run(fresh.pause_async("hold"))
    assert fresh.describe().status == aion.WorkflowStatus.PAUSED
    asyncio.run(fresh.resume_async())
    fresh.signal("go", "x")
    assert fresh.result(timeout=25) == "x"


def test_a_paused_workflow_stays_paused_on_the_host_that_recovers_it(
    connect: Connect, tmp_path: Path
) -> None:
    client = connect()
    out = tmp_path / "out"
    handle = client.start(ow.signalled_record, str(out))
    handle.pause("hold")
    handle.signal("go", "later")  # its activity is scheduled and held
    killed = kill_host(client, handle.workflow_id)
    _wait_for(lambda: _pid_or_none(client, handle.workflow_id) not in (None, killed))
    handle.signal("barrier", None)  # recorded by the new host, which rebuilt the run first
    assert "ActivityStarted" not in [e.type for e in handle.history()]
    assert handle.describe().status == aion.WorkflowStatus.PAUSED
    handle.resume()
    assert handle.result(timeout=25) == "later"
    assert out.read_text() == "later\n"


def test_reopen_after_a_fix_hosts_the_run_again_and_runs_only_what_failed(
    engine: aion.Client, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    handle = engine.start(ow.fixable, str(out))
    with pytest.raises(aion.WorkflowFailedError, match="not fixed yet"):
        handle.result(timeout=25)
    running = engine.start(ow.signalled_record, str(tmp_path / "other"))
    with pytest.raises(aion.WorkflowStateError, match="running"):
        running.reopen()
    running.terminate("done with it")
    (tmp_path / "out.fix").write_text("fixed")
    handle.reopen()
    assert handle.result(timeout=25) == "fixed"
    assert out.read_text() == "first\n"  # the completed step did not run again
    history = handle.history()
    assert [e.attempt for e in history if isinstance(e, ev.ActivityStarted)] == [1, 1, 2, 3]
    assert handle.describe().status == aion.WorkflowStatus.COMPLETED
    with pytest.raises(aion.WorkflowStateError, match="completed"):
        asyncio.run(handle.reopen_async())
    assert len(handle.history()) == len(history)  # the refusal wrote nothing
