"""``aion --history-file``: a store file written by an engine, read with none running."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from aion_ray.storage import DuckDBHistoryStore
from aion_ray.testing import TestEngine
from tests.cli.conftest import Run, run_aion, run_many
from tests.cli.workflows import greet, waiter

W = "tests.cli.workflows"


@pytest.fixture(scope="module")
def store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed store file with a completed greet and a waiter still running."""
    path = tmp_path_factory.mktemp("offline") / "history.duckdb"
    store = DuckDBHistoryStore(path)
    engine = TestEngine(store=store)
    engine.start(greet, "ada", id="g-1").result()
    engine.start(waiter, id="w-1")
    store.close()
    return path


def offline(path: Path) -> Callable[..., Run]:
    def run(*args: str) -> Run:
        return run_aion(("--history-file", str(path)), *args)

    return run


def test_reads_a_store_file_with_no_engine(store_file: Path, tmp_path: Path) -> None:
    aion = offline(store_file)
    listed, described, shown, lanes, answer, exported, same, changed, missing = run_many(
        aion,
        ("list", "--status", "running", "-o", "json"),
        ("describe", "g-1", "-o", "json"),
        ("show", "g-1", "-o", "jsonl"),
        ("timeline", "w-1", "-o", "csv"),
        ("sql", "SELECT type FROM events WHERE workflow_id = 'g-1' ORDER BY seq", "-o", "json"),
        ("export", str(tmp_path / "out"), "-o", "json"),
        ("replay", f"{W}:greet", "-o", "json"),
        ("replay", f"{W}:greet_changed", "g-1"),
        ("describe", "nope"),
    )
    assert [info["workflow_id"] for info in listed.json()] == ["w-1"]
    assert listed.json()[0]["status"] == "running"
    assert described.json()["status"] == "completed"
    types = [json.loads(line)["type"] for line in shown.stdout.splitlines()]
    assert types == [row["type"] for row in answer.json()]
    assert types[0] == "WorkflowStarted"
    assert lanes.stdout.splitlines()[0] == "lane,start,end,what,bar"
    assert {row["file"] for row in exported.json()} >= {"workflows.parquet", "lifecycle.parquet"}
    assert same.json() == [
        {"workflow_id": "g-1", "runs": 1, "events": len(types), "commands": 2, "outcome": "ok"}
    ]
    changed.failed(7, "g-1", "whisper")
    missing.failed(3, "'nope' not found")
    again = offline(tmp_path / "out")("list", "-o", "json")  # the export, read back
    assert {info["workflow_id"] for info in again.json()} == {"g-1", "w-1"}


def test_a_path_that_is_no_history_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    offline(tmp_path / "empty")("list").failed(2, "is not a Parquet export")
    run_aion(("--history-file", str(tmp_path / "absent")), "list").failed(2, "does not exist")
