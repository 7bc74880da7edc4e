"""aion.open_history: a store file or a Parquet export read with no engine, and a clear error
while an engine holds the file."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import aion_ray as aion
from aion_ray.errors import SqlRefusedError
from aion_ray.storage import DuckDBHistoryStore
from aion_ray.testing import TestEngine
from tests.display.workflows import pipeline


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    """A store file holding one finished and one waiting workflow, closed."""
    path = tmp_path / "history.duckdb"
    store = DuckDBHistoryStore(path)
    engine = TestEngine(store=store)
    done = engine.start(pipeline, "a", id="done")
    engine.sleep(61)
    done.signal("approve", True)
    done.result()
    engine.start(pipeline, "b", id="waiting")
    store.close()
    return path


@pytest.fixture
def held(store_file: Path) -> Iterator[Path]:
    """The store file, held open by a store in another process (as an engine holds it)."""
    holder = (
        "import sys; from aion_ray.storage import DuckDBHistoryStore; "
        "s = DuckDBHistoryStore(sys.argv[1]); print('ready', flush=True); sys.stdin.read()"
    )
    with subprocess.Popen(
        [sys.executable, "-c", holder, str(store_file)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield store_file
        process.kill()  # the holder this fixture started, by its handle


def test_a_store_file_reads_like_the_client(store_file: Path) -> None:
    with aion.open_history(store_file) as histories:
        listed = histories.list()
        assert [(i.workflow_id, str(i.status)) for i in listed] == [
            ("done", "completed"),
            ("done-c", "completed"),
            ("waiting", "running"),
        ]
        assert [i.workflow_id for i in histories.list(status="running")] == ["waiting"]
        history = histories.history("done")
        assert history[-1].type == "WorkflowCompleted"
        assert [e.seq for e in history] == list(range(1, len(history) + 1))
        assert "<table" in history._repr_html_()
        table = histories.sql("SELECT count(*) AS n FROM events WHERE workflow_id = 'done'")
        assert table.column("n").to_pylist() == [len(history)]
        assert histories.timeline("done").svg().startswith("<?xml")
        with pytest.raises(SqlRefusedError):
            histories.sql("DELETE FROM events")
        with pytest.raises(aion.WorkflowNotFoundError):
            histories.history("nobody")
        with pytest.raises(aion.InvalidInputError):
            histories.list(status="sleeping")


def test_a_parquet_export_reads_the_same(store_file: Path, tmp_path: Path) -> None:
    store = DuckDBHistoryStore(store_file)
    store.export_parquet(tmp_path / "export")
    store.close()
    with aion.open_history(store_file) as live, aion.open_history(tmp_path / "export") as export:
        assert list(export.history("done")) == list(live.history("done"))
        assert list(export.list()) == list(live.list())
        query = "SELECT type, count(*) AS n FROM events GROUP BY type ORDER BY type"
        assert export.sql(query).to_pylist() == live.sql(query).to_pylist()


def test_a_file_an_engine_holds_is_refused_with_what_to_do(held: Path) -> None:
    with pytest.raises(aion.StoreError, match="held by a running engine") as caught:
        aion.open_history(held)
    assert "client" in str(caught.value)
    assert "export" in str(caught.value)


def test_what_is_not_a_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(aion.InvalidInputError, match="no store file"):
        aion.open_history(tmp_path / "missing.duckdb")
    with pytest.raises(aion.InvalidInputError, match="not a Parquet export"):
        aion.open_history(tmp_path)
    with pytest.raises(aion.InvalidInputError):
        aion.open_history(42)  # type: ignore[arg-type]
