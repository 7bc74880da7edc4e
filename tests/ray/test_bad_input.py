"""Bad input at every client entry point: a typed error naming what was wrong, nothing written."""

from __future__ import annotations

import asyncio
import math
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import aion_ray as aion
from aion_ray.errors import SqlRefusedError
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


BAD_ATTRIBUTE_VALUES = [datetime(2026, 1, 1, tzinfo=UTC), object(), math.nan]


@pytest.mark.parametrize("value", BAD_ATTRIBUTE_VALUES, ids=["datetime", "object", "nan"])
def test_a_bad_search_attribute_is_refused_and_the_id_stays_free(
    engine: aion.Client, value: Any
) -> None:
    # Refused by the client, before anything is sent: no definition row, no half-built
    # driver on a host, so a good start of the same id works.
    wid = uuid.uuid4().hex
    before = _events(engine)
    with pytest.raises(aion.InvalidInputError, match="search attribute 'when'"):
        engine.start(wf.one_local, 1, id=wid, search_attributes={"when": value})
    assert _events(engine) == before
    handle = engine.start(wf.one_local, 1, id=wid, search_attributes={"when": "today"})
    handle.result(timeout=60)
    assert handle.describe().search_attributes == {"when": "today"}


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


def test_sql_that_reads_files_or_settings_is_refused_through_the_client(
    engine: aion.Client,
) -> None:
    before = _events(engine)
    for query, named in [
        ("select * from read_text('/proc/self/environ')", "read_text()"),
        ("select * from glob('/proc/self/*')", "glob()"),
        ("select * from duckdb_settings()", "duckdb_settings()"),
        ("with d as (delete from events returning *) select count(*) from d", "DELETE"),
    ]:
        with pytest.raises(SqlRefusedError) as refused:
            engine.sql(query)
        assert named in refused.value.reason
    assert _events(engine) == before


def test_bad_input_at_the_async_entry_points_is_refused(engine: aion.Client) -> None:
    async def scenario() -> None:
        for query in ("", 3, "delete from events", "select * from read_csv('/etc/passwd')"):
            with pytest.raises(aion.InvalidInputError):
                await engine.sql_async(query)
        for conditions in ({"status": "sleeping"}, {"limit": -1}, {"search_attributes": 3}):
            with pytest.raises(aion.InvalidInputError, match="filter"):
                await engine.list_async(**conditions)

    before = _events(engine)
    asyncio.run(scenario())
    assert _events(engine) == before


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
