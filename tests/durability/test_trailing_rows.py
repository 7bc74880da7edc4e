"""Trailing rows: a store process killed before its visibility rows were written.

The writer acknowledges starts and completions whose ``workflows`` rows and observed
lifecycle entries only trail (its trail limits are an hour), then dies by SIGKILL. The file
then holds the events without those rows; opening it rebuilds them from the events, and the
lifecycle entry recorded on its own is there. With the usual limits, a writer that idles a
moment has written its trail by itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb

from aion_ray.model.history import WorkflowStatus
from aion_ray.storage import DuckDBHistoryStore
from tests.durability.trail_writer import COMPLETED, WORKFLOWS

REPO = Path(__file__).resolve().parents[2]


def kill_after_done(path: Path, *options: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.durability.trail_writer", str(path), *options],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "DONE"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL


def test_visibility_is_rebuilt_after_a_kill_before_the_trail(tmp_path: Path) -> None:
    path = tmp_path / "trail.duckdb"
    kill_after_done(path)
    with duckdb.connect(str(path), read_only=True) as raw:  # the file as the kill left it
        assert raw.execute("SELECT count(*) FROM events").fetchone() == (WORKFLOWS + COMPLETED,)
        stored = raw.execute("SELECT DISTINCT status FROM workflows").fetchall()
        assert stored == [("running",)]  # the completions' rows never got written
    store = DuckDBHistoryStore(path)
    try:
        statuses = {info.workflow_id: info.status for info in store.list_workflows()}
        assert statuses == {
            f"wf-{i}": WorkflowStatus.COMPLETED if i < COMPLETED else WorkflowStatus.RUNNING
            for i in range(WORKFLOWS)
        }
        assert [entry.kind for entry in store.read_lifecycle("catalogue")] == ["kept"]
        assert len(store.read_lifecycle(f"wf-{WORKFLOWS - 1}")) == 2  # written by the reads
    finally:
        store.close()
    reopened = DuckDBHistoryStore(path)  # nothing left to catch up: the same rows
    try:
        assert len(reopened.list_workflows()) == WORKFLOWS
    finally:
        reopened.close()


def test_an_idle_writer_writes_its_trail_by_itself(tmp_path: Path) -> None:
    path = tmp_path / "idle.duckdb"
    kill_after_done(path, "--idle")
    with duckdb.connect(str(path), read_only=True) as raw:
        assert raw.execute("SELECT count(*) FROM workflows").fetchone() == (WORKFLOWS,)
        observed = raw.execute("SELECT count(*) FROM lifecycle WHERE kind = 'resident'")
        assert observed.fetchone() == (WORKFLOWS + 1,)
        completed = raw.execute("SELECT count(*) FROM workflows WHERE status = 'completed'")
        assert completed.fetchone() == (COMPLETED,)
