"""Bad input at every client entry point: a typed error naming what was wrong, nothing written."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

import aion_ray as aion
from tests.ray import workflows as wf

pytestmark = pytest.mark.ray


def _events(engine: aion.Client) -> int:
    return int(engine.sql("select count(*) as n from events").column("n")[0].as_py())


@pytest.mark.parametrize(
    ("workflow", "arg", "error", "words"),
    [
        (wf.add, 1, aion.InvalidInputError, "@aion.workflow"),
        (lambda: None, None, aion.InvalidInputError, "@aion.workflow"),
        (wf.one_local, "not an int", aion.PayloadError, "int"),
        (wf.one_local, object(), aion.PayloadError, "int"),
        (wf.pid_of_host, 3, aion.InvalidInputError, "takes no input"),
        (wf.waits_for_signal, "x" * (3 * 1024 * 1024), aion.PayloadError, "path or URI"),
    ],
)
def test_a_bad_start_is_refused_before_anything_is_written(
    engine: aion.Client, workflow: Any, arg: Any, error: type[Exception], words: str
) -> None:
    before = _events(engine)
    with pytest.raises(error, match=words):
        engine.start(workflow, arg)
    assert _events(engine) == before


def test_bad_start_options_are_refused_before_anything_is_written(engine: aion.Client) -> None:
    before = _events(engine)
    with pytest.raises(aion.InvalidInputError, match="new_run"):
        engine.start(wf.one_local, 1, new_run="yes")
    with pytest.raises(aion.InvalidInputError, match="search_attributes"):
        engine.start(wf.one_local, 1, search_attributes=["team"])
    assert _events(engine) == before


@pytest.mark.parametrize("bad_id", ["", " padded ", 42, "x" * 5000])
def test_a_bad_workflow_id_is_refused(engine: aion.Client, bad_id: Any) -> None:
    before = _events(engine)
    with pytest.raises(aion.InvalidInputError, match="workflow id"):
        engine.start(wf.one_local, 1, id=bad_id)
    with pytest.raises(aion.InvalidInputError, match="workflow id"):
        engine.get(bad_id)
    assert _events(engine) == before


def test_unknown_ids_and_names_get_typed_errors(engine: aion.Client) -> None:
    unknown = uuid.uuid4().hex
    with pytest.raises(aion.WorkflowNotFoundError):
        engine.get(unknown)
    handle = aion.WorkflowHandle(engine, unknown)
    for call in (
        lambda: handle.signal("go", 1),
        lambda: handle.query("progress"),
        handle.cancel,
        handle.describe,
        handle.history,
        lambda: handle.result(timeout=1),
    ):
        with pytest.raises(aion.WorkflowNotFoundError):
            call()
    running = engine.start(wf.waits_for_signal, "go")
    with pytest.raises(aion.QueryError, match="no-such"):
        running.query("no-such")
    before = len(running.history())
    for bad in ("", None, 3):
        with pytest.raises(aion.InvalidInputError):
            running.signal(bad, 1)
    with pytest.raises(aion.PayloadError):
        running.signal("go", object())
    assert len(running.history()) == before
    for bad_timeout in (-1, "soon", float("nan"), True):
        with pytest.raises(aion.InvalidInputError, match="timeout"):
            running.result(timeout=bad_timeout)
    running.signal("go", 1)
    running.result(timeout=30)


def test_bad_sql_and_filters_are_refused(engine: aion.Client) -> None:
    with pytest.raises(aion.InvalidInputError):
        engine.sql("delete from events")
    with pytest.raises(aion.InvalidInputError):
        engine.sql("")
    with pytest.raises(aion.InvalidInputError, match="filter"):
        engine.list(status="sleeping")
    with pytest.raises(aion.InvalidInputError, match="filter"):
        engine.list(limit=-1)


@pytest.mark.parametrize(
    "options",
    [
        {"workflows_per_actor": 0},
        {"pool_size": (3, 1)},
        {"pool_size": 4},
        {"idle_timeout": 0},
        {"namespace": ""},
        {"restart_limit": (1, 0)},
    ],
)
def test_bad_connect_options_are_refused(options: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(aion.InvalidInputError):
        aion.connect(store_path=tmp_path / "h.duckdb", **options)
    assert not (tmp_path / "h.duckdb").exists()
