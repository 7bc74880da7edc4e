"""User SQL reads the store's tables and nothing else, changes nothing, and is stopped at its
limits (time, memory, result size) while the store carries on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from aion_ray.errors import InvalidInputError, SqlLimitError, SqlRefusedError
from aion_ray.storage import DuckDBHistoryStore, HistoryStore, InMemoryHistoryStore, SqlLimits
from aion_ray.storage.history_file import HistoryFile
from tests.builders import HistoryBuilder, completed_history

FOREVER = "select count(*) as n from (select range % 1000 as k from range(10000000000000))"
"""A query that would run for hours, holding no more than a little memory."""
HUGE_HASH_TABLE = "select count(*) from (select range % 100000000 from range(400000000) group by 1)"
"""A query whose hash table (10^8 groups) does not fit in 64 MB."""


def _append(store: HistoryStore, workflow_id: str) -> None:
    b = HistoryBuilder(workflow_id)
    b.started()
    lease = store.acquire_lease(workflow_id)
    store.append(workflow_id, b.events, expected_seq=0, lease=lease)


def _count(store: HistoryStore) -> int:
    return int(store.sql("select count(*) as n from events").column("n")[0].as_py())


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.csv"
    path.write_text("token\nhunter2\n")
    return path


REFUSED = [
    ("select * from read_text('/proc/self/environ')", "read_text()"),
    ("select * from read_csv('{secret}')", "read_csv()"),
    ("from '{secret}'", "secret.csv' is not a table"),
    ("select * from '{secret}' union all select 'x'", "secret.csv' is not a table"),
    ("select * from glob('/proc/self/*')", "glob()"),
    ("select * from duckdb_settings()", "duckdb_settings()"),
    ("select * from pg_catalog.pg_settings", "'pg_settings' is not a table"),
    ("select * from pg_settings", "'pg_settings' is not a table"),
    ("select current_setting('memory_limit') as m", "current_setting()"),
    ("with d as (delete from events returning *) select count(*) from d", "DELETE found"),
    ("with d as (update events set seq = 0 returning *) select count(*) from d", "UPDATE found"),
    ("select * from query('delete from events')", "query()"),
    ("select * from checkpoint()", "checkpoint()"),
    ("describe '{secret}'", "secret.csv' is not a table"),
    ("select * from events where seq in (select * from read_blob('{secret}'))", "read_blob()"),
    ("explain analyze select * from read_text('{secret}')", "read_text()"),
]


@pytest.mark.parametrize(("query", "named"), REFUSED, ids=[named for _, named in REFUSED])
def test_sql_that_reads_files_settings_or_writes_is_refused_and_changes_nothing(
    store: HistoryStore, secret_file: Path, query: str, named: str
) -> None:
    lease = store.acquire_lease("wf-1")
    store.append("wf-1", completed_history("wf-1"), expected_seq=0, lease=lease)
    before = _count(store)
    with pytest.raises(SqlRefusedError) as refused:
        store.sql(query.format(secret=secret_file))
    assert named in refused.value.reason  # named before it ran, not by a failure
    assert "hunter2" not in str(refused.value)
    assert _count(store) == before
    assert store.read_history("wf-1") == completed_history("wf-1")


def test_pivot_is_refused_as_more_than_one_statement(store: HistoryStore) -> None:
    with pytest.raises(SqlRefusedError, match="MULTI statements are not allowed"):
        store.sql("pivot events on type using count(*)")


def test_sql_limits_must_be_positive() -> None:
    for limits in ({"timeout": 0}, {"result_bytes": -1}, {"timeout": float("nan")}):
        with pytest.raises(InvalidInputError, match="SQL limits"):
            SqlLimits(**limits)


def test_queries_over_the_tables_and_generators_still_run(store: HistoryStore) -> None:
    _append(store, "wf-1")
    queries = [
        "with t as (select workflow_id from workflows) select count(*) as n from t",
        "select count(*) as n from main.events, range(3)",
        "select count(*) as n from (describe events)",
        "summarize lifecycle",
        "select e.key as n from json_each('{\"a\": 1}') as e",
        "select unnest([1, 2]) as n",
    ]
    for query in queries:
        assert store.sql(query).num_rows >= 1, query


def test_the_store_connection_itself_reads_no_file_and_keeps_its_settings(
    tmp_path: Path, secret_file: Path
) -> None:
    # The second fence, below the check: even SQL that got past it could not read a file
    # nor turn file access back on.
    store = DuckDBHistoryStore(tmp_path / "h.duckdb")
    try:
        reads = store._readers
        with pytest.raises(duckdb.PermissionException):
            reads.run(lambda c: c.execute(f"select * from read_text('{secret_file}')").fetchall())
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            reads.run(lambda c: c.execute("SET enable_external_access = true"))
    finally:
        store.close()


def test_an_offline_file_and_an_export_read_only_their_own_files(
    tmp_path: Path, secret_file: Path
) -> None:
    store = DuckDBHistoryStore(tmp_path / "h.duckdb")
    _append(store, "wf-1")
    store.export_parquet(tmp_path / "export")
    store.close()
    for source in (tmp_path / "h.duckdb", tmp_path / "export"):
        history = HistoryFile(source)
        try:
            assert history.sql("select count(*) as n from events").column("n")[0].as_py() == 1
            with pytest.raises(SqlRefusedError, match="read_text"):
                history.sql(f"select * from read_text('{secret_file}')")
        finally:
            history.close()


@pytest.fixture(params=["memory", "duckdb"])
def limited(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HistoryStore]:
    limits = SqlLimits(timeout=1.0, result_bytes=1 << 20)
    instance: HistoryStore
    if request.param == "memory":
        instance = InMemoryHistoryStore(sql_limits=limits)
    else:
        instance = DuckDBHistoryStore(tmp_path / "h.duckdb", sql_limits=limits)
    yield instance
    instance.close()


def test_a_query_past_its_time_is_stopped_and_the_store_carries_on(
    limited: HistoryStore,
) -> None:
    with pytest.raises(SqlLimitError, match="longer than 1 s") as stopped:
        limited.sql(FOREVER)
    assert stopped.value.limit == "time"
    _append(limited, "wf-after")
    assert _count(limited) == 1


def test_a_result_past_its_size_is_refused_and_the_store_carries_on(
    limited: HistoryStore,
) -> None:
    with pytest.raises(SqlLimitError, match="result") as stopped:
        limited.sql("select range as n from range(10000000)")
    assert stopped.value.limit == "result"
    assert limited.sql("select range as n from range(1000)").num_rows == 1000


def test_a_query_past_the_memory_limit_is_stopped_and_appends_continue(tmp_path: Path) -> None:
    store = DuckDBHistoryStore(tmp_path / "h.duckdb", memory_limit="64MB")
    try:
        with pytest.raises(SqlLimitError, match="memory") as stopped:
            store.sql(HUGE_HASH_TABLE)
        assert stopped.value.limit == "memory"
        _append(store, "wf-after")
        assert store.read_history("wf-after")[0].seq == 1
    finally:
        store.close()


def test_appends_commit_while_a_heavy_query_runs(tmp_path: Path) -> None:
    store = DuckDBHistoryStore(tmp_path / "h.duckdb", sql_limits=SqlLimits(timeout=8.0))
    outcome: list[BaseException | object] = []

    def query() -> None:
        try:
            outcome.append(store.sql(FOREVER))
        except BaseException as exc:
            outcome.append(exc)

    runner = threading.Thread(target=query)
    try:
        runner.start()
        waited = threading.Event()
        for _ in range(1000):  # until the query runs (bounded: 10 s)
            if store.sql_runner.running:
                break
            waited.wait(0.01)
        assert store.sql_runner.running == 1
        for i in range(20):
            _append(store, f"wf-{i}")
        assert [len(store.read_history(f"wf-{i}")) for i in range(20)] == [1] * 20
        assert runner.is_alive()  # the appends did not wait for the query to end
    finally:
        runner.join()
        store.close()
    assert isinstance(outcome[0], SqlLimitError)
    assert store.sql_runner.stopped == 1
