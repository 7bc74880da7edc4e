"""Connecting to an engine that already serves a namespace, with or without naming its store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import ray

import aion_ray as aion
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
