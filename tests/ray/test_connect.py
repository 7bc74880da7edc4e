"""Connecting to an engine that already serves a namespace, with or without naming its store."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import ray

import aion_ray as aion
from aion_ray.actors.config import REGISTRY_NAME
from tests.ray import workflows as wf
from tests.ray.conftest import Connect

pytestmark = pytest.mark.ray
SCRIPTS = Path(__file__).parent / "scripts"
ROOT = Path(__file__).resolve().parents[2]


def _run_lines(*args: str, cwd: Path, timeout: float = 120) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()


def test_a_driver_naming_no_store_attaches_to_the_engine_serving_the_namespace(
    connect: Connect, tmp_path: Path
) -> None:
    store = tmp_path / "elsewhere" / "served.duckdb"
    client = connect(store_path=store)
    handle = client.start(wf.waits_for_signal, "go")
    elsewhere = tmp_path / "second-driver"  # its default store path would be under here
    elsewhere.mkdir()
    address = ray.get_runtime_context().gcs_address
    lines = _run_lines(
        str(SCRIPTS / "attach.py"),
        address,
        client.config.namespace,
        handle.workflow_id,
        "go",
        cwd=elsewhere,
    )
    assert lines[-3:] == [str(store), "running", repr("from a driver that named no store")]
    assert handle.result(timeout=30) == "from a driver that named no store"
    assert not (elsewhere / ".aion").exists()  # it opened no store of its own


def test_an_explicit_other_store_path_is_refused_and_nothing_is_written(
    connect: Connect, tmp_path: Path
) -> None:
    client = connect(store_path=tmp_path / "served.duckdb")
    other = tmp_path / "other" / "history.duckdb"
    with pytest.raises(aion.InvalidInputError, match="served by the store at"):
        connect(namespace=client.config.namespace, store_path=other)
    assert not other.parent.exists()
    again = connect(namespace=client.config.namespace, store_path=tmp_path / "served.duckdb")
    assert again.config.store_path == client.config.store_path


def test_with_no_engine_and_no_store_path_the_default_path_is_used(
    connect: Connect, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    client = connect(store_path=None)
    default = tmp_path / ".aion" / "history.duckdb"
    assert client.config.store_path == str(default)
    assert client.start(wf.waits_for_signal, "go").describe().status.value == "running"
    assert default.exists()


def test_a_store_path_that_is_not_a_path_is_refused(connect: Connect) -> None:
    with pytest.raises(aion.InvalidInputError, match="store_path"):
        connect(store_path=42)


def _no_store_actor(namespace: str) -> bool:
    try:
        ray.get_actor("aion-store", namespace=namespace)
    except ValueError:
        return True
    return False


def test_a_store_file_that_does_not_open_is_a_store_error_and_nothing_is_created(
    connect: Connect, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.duckdb"
    notes.write_text("not a database\n" * 100)
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    for path in (notes, blocker / "history.duckdb"):  # no database; a directory that is a file
        namespace = f"unopened-{path.name}"
        with pytest.raises(aion.StoreError, match="cannot open history store") as caught:
            connect(store_path=path, namespace=namespace)
        assert str(path) in str(caught.value)
        assert _no_store_actor(namespace)  # no actor left restarting over it
    assert notes.read_text().startswith("not a database")
    assert blocker.read_text() == "in the way"


def test_a_store_restarted_where_its_file_is_not_fails_saying_so_and_creates_nothing(
    connect: Connect, tmp_path: Path
) -> None:
    client = connect(store_path=tmp_path / "history.duckdb")
    handle = client.start(wf.one_local, 1)
    assert handle.result(timeout=30) == 2
    away = tmp_path / "elsewhere.duckdb"
    os.rename(client.config.store_path, away)  # as on a node that does not hold the file
    pid: int = ray.get(client.store.handle.__ray_call__.remote(lambda _: os.getpid()))
    os.kill(pid, signal.SIGKILL)  # Ray restarts it with the same arguments
    with pytest.raises(aion.StoreError, match="no store file there"):
        _wait_for_failed_open(client)
    assert not Path(client.config.store_path).exists()  # no empty store in its place
    health = client.store.health().get(timeout=10)
    assert not health.reachable
    assert "no store file there" in (health.error or "")
    with pytest.raises(aion.StoreError, match="no store file there"):
        connect(namespace=client.config.namespace, store_path=tmp_path / "history.duckdb")
    os.rename(away, client.config.store_path)  # the file is back: a restart opens it
    client.store.kill()
    ray.kill(ray.get_actor(REGISTRY_NAME, namespace=client.config.namespace), no_restart=True)
    again = connect(namespace=client.config.namespace, store_path=tmp_path / "history.duckdb")
    assert again.get(handle.workflow_id).result(timeout=30) == 2


def _wait_for_failed_open(client: aion.Client) -> None:
    """Ping the store until it answers with the error of its failed open."""
    for _ in range(100):
        with contextlib.suppress(aion.EngineUnavailableError):
            client.store.ping().get(timeout=10)
        time.sleep(0.1)


@pytest.mark.parametrize("resource", ["", "   ", 42, b"worker"])
def test_a_bad_store_resource_is_refused_before_anything_is_made(
    resource: object, tmp_path: Path
) -> None:
    with pytest.raises(aion.InvalidInputError, match="store_resource"):
        aion.connect(store_path=tmp_path / "h.duckdb", store_resource=resource)
    assert not (tmp_path / "h.duckdb").exists()


def test_a_store_resource_no_node_has_is_refused_with_nothing_created(
    connect: Connect, tmp_path: Path
) -> None:
    with pytest.raises(aion.InvalidInputError, match="no node of the cluster has"):
        connect(store_path=tmp_path / "h.duckdb", namespace="no-such-node", store_resource="gpu-x")
    assert not (tmp_path / "h.duckdb").exists()
    assert _no_store_actor("no-such-node")
