"""Survival: a SIGKILLed workflow actor, a second driver, and a new cluster over an old store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import ray

import aion_ray as aion
from aion_ray.model import events as ev
from tests.ray import workflows as wf
from tests.ray.conftest import Connect, kill_host

pytestmark = pytest.mark.ray
SCRIPTS = Path(__file__).parent / "scripts"
ROOT = Path(__file__).resolve().parents[2]


def _wait_for_file(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def _interrupted(history: list[ev.Event]) -> list[ev.ActivityFailed]:
    return [
        e for e in history if isinstance(e, ev.ActivityFailed) and "interrupt" in e.error.message
    ]


def test_a_killed_host_is_replaced_and_no_completed_activity_runs_again(
    connect: Connect, tmp_path: Path
) -> None:
    client = connect()
    first, held, release = tmp_path / "first", tmp_path / "held", tmp_path / "release"
    handle = client.start(wf.crash_course, (str(first), str(held), str(release)))
    _wait_for_file(held)  # the held step is running, in a task the host owns
    kill_host(client, handle.workflow_id)
    release.touch()
    assert handle.result(timeout=60) == [1, 2]
    assert first.read_text() == "x"  # completed before the crash: never again
    assert held.read_text() == "xx"  # interrupted by the crash: retried once
    assert len(_interrupted(handle.history())) == 1


def test_a_handle_whose_host_died_reaches_the_workflow_through_the_registry(
    connect: Connect,
) -> None:
    client = connect()
    handle = client.start(wf.waits_for_signal, "go")
    kill_host(client, handle.workflow_id)
    assert handle.query("progress") == "waiting"  # answered on the workflow's new host
    handle.signal("go", "still here")
    assert handle.result(timeout=60) == "still here"


def test_every_workflow_of_a_killed_shared_host_recovers(connect: Connect, tmp_path: Path) -> None:
    client = connect(workflows_per_actor=4, pool_size=(1, 4))
    release = tmp_path / "release"  # the held steps run until the test creates it
    firsts = [tmp_path / f"first{i}" for i in range(3)]
    helds = [tmp_path / f"held{i}" for i in range(3)]
    handles = [
        client.start(wf.crash_course, (str(first), str(held), str(release)))
        for first, held in zip(firsts, helds, strict=True)
    ]
    for held in helds:
        _wait_for_file(held)  # each first step completed; each held step is running
    hosts = {client.registry.where(h.workflow_id).get() for h in handles}
    assert len(hosts) == 1, "workflows_per_actor=4 packs them onto one actor"
    kill_host(client, handles[0].workflow_id)
    release.touch()
    assert [h.result(timeout=60) for h in handles] == [[1, 2]] * 3
    # Runs per step: the completed first steps never ran again; each held step ran once
    # on the killed host and once more, after its interruption was recorded.
    assert [first.read_text() for first in firsts] == ["x"] * 3
    assert [held.read_text() for held in helds] == ["xx"] * 3
    assert [len(_interrupted(h.history())) for h in handles] == [1] * 3


def test_a_workflow_whose_hosts_keep_dying_is_failed_past_the_restart_limit(
    connect: Connect,
) -> None:
    client = connect(restart_limit=(1, 60.0), pool_size=(1, 3))
    handle = client.start(wf.crash_loop)
    with pytest.raises(aion.WorkflowFailedError, match="host died more than 1 time"):
        handle.result(timeout=60)
    started = [e for e in handle.history() if isinstance(e, ev.ActivityStarted)]
    assert len(started) == 2  # the first run and one restart, then no more


def _run(*args: str, timeout: float = 120) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_a_new_engine_leaves_parked_workflows_parked_until_something_comes(
    connect: Connect, tmp_path: Path
) -> None:
    path = tmp_path / "parked.duckdb"
    first = connect(idle_timeout=0.3, store_path=path)
    waiting = first.start(wf.waits_for_signal, "go")
    sleeping = first.start(wf.sleeps_then_adds, 10.0)
    release = tmp_path / "release"
    busy = first.start(wf.busy_locally, str(release))  # inside a local activity: not blocked
    _eventually(
        lambda: {waiting.describe().residency, sleeping.describe().residency} == {"suspended"}
    )
    first.shutdown()
    second = connect(idle_timeout=30.0, store_path=path)

    def residency(handle: aion.WorkflowHandle[Any]) -> str | None:
        found: str | None = second.get(handle.workflow_id).describe().residency
        return found

    # connect() returns before recovery is done: it resumes in the background.
    _eventually(lambda: residency(busy) == "resident")  # it was working when it stopped
    assert (residency(waiting), residency(sleeping)) == ("suspended", "suspended")
    release.touch()
    assert second.get(busy.workflow_id).result(timeout=30) == "released"
    assert second.get(sleeping.workflow_id).result(timeout=30) == 2  # its wake was kept
    again = second.get(waiting.workflow_id)
    again.signal("go", "back")
    assert again.result(timeout=30) == "back"


def _eventually(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_a_second_driver_finds_the_same_workflows(connect: Connect) -> None:
    client = connect()
    handle = client.start(wf.waits_for_signal, "go")
    address = ray.get_runtime_context().gcs_address
    out = _run(
        str(SCRIPTS / "finish.py"),
        client.config.store_path,
        client.config.namespace,
        handle.workflow_id,
        address,
        "go",
    )
    assert out == repr("from the second driver")
    assert handle.result(timeout=30) == "from the second driver"


@pytest.mark.slow
def test_a_new_cluster_over_the_store_finishes_a_main_script_workflow(tmp_path: Path) -> None:
    """Driver 1 defines the workflow in ``__main__``, starts it sleeping, and stops its Ray;
    driver 2, which has no workflow code, connects over the same store on a new cluster."""
    store, namespace, workflow_id = str(tmp_path / "h.duckdb"), "fresh", uuid.uuid4().hex
    assert _run(str(SCRIPTS / "start_in_main.py"), store, namespace, workflow_id, "2") == "running"
    assert _run(str(SCRIPTS / "finish.py"), store, namespace, workflow_id) == repr("GOOD MORNING!")


def test_aion_ray_alone_does_not_import_ray() -> None:
    code = "import sys, aion_ray; assert 'ray' not in sys.modules, 'ray imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
    assert aion.connect is not None
