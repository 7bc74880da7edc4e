"""A store file's identity: a store id written at creation and checked at an open that names
one, so a store reopened in the wrong place fails loudly instead of starting empty."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from aion_ray.errors import StoreError
from aion_ray.storage import DuckDBHistoryStore
from tests.builders import completed_history
from tests.contract.test_duckdb_persistence import append_all


def test_a_new_file_gets_a_store_id_that_every_reopen_keeps(tmp_path: Path) -> None:
    path = tmp_path / "history.duckdb"
    first = DuckDBHistoryStore(path)
    created = first.store_id
    append_all(first, completed_history())
    first.close()
    again = DuckDBHistoryStore(path, store_id=created)
    assert again.store_id == created
    assert again.read_history("wf-done") == completed_history()
    again.close()
    other = DuckDBHistoryStore(tmp_path / "other.duckdb")
    assert other.store_id != created  # each file its own
    other.close()


def test_an_open_naming_a_store_id_never_creates_the_file(tmp_path: Path) -> None:
    created = _created(tmp_path / "history.duckdb")
    elsewhere = tmp_path / "node-b" / "history.duckdb"
    elsewhere.parent.mkdir()
    with pytest.raises(StoreError, match="no store file there") as caught:
        DuckDBHistoryStore(elsewhere, store_id=created)
    assert str(elsewhere) in str(caught.value)
    assert created in str(caught.value)
    assert list(elsewhere.parent.iterdir()) == []  # no empty store in its place


def test_an_open_naming_another_store_id_is_refused_and_releases_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.duckdb"
    created = _created(path)
    with pytest.raises(StoreError, match=f"is the store {created}, not the store wanted"):
        DuckDBHistoryStore(path, store_id="wanted")
    reopened = DuckDBHistoryStore(path, store_id=created)  # the refused open let it go
    assert reopened.read_history("wf-done") == completed_history()
    reopened.close()


def test_a_file_from_before_store_ids_is_given_one_at_its_next_open(tmp_path: Path) -> None:
    path = tmp_path / "history.duckdb"
    _created(path)
    con = duckdb.connect(str(path))
    con.execute("DELETE FROM aion_meta WHERE key = 'store_id'")
    con.close()
    with pytest.raises(StoreError, match="is the store \\(no id\\)"):
        DuckDBHistoryStore(path, store_id="anything")
    store = DuckDBHistoryStore(path)
    given = store.store_id
    store.close()
    assert DuckDBHistoryStore(path, store_id=given).read_history("wf-done") == completed_history()


def test_a_file_that_is_no_duckdb_database_is_a_store_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "notes.duckdb"
    path.write_text("these are notes, not a database\n" * 100)
    with pytest.raises(StoreError, match="cannot open history store") as caught:
        DuckDBHistoryStore(path)
    assert str(path) in str(caught.value)
    assert path.read_text().startswith("these are notes")  # left as it was


def test_a_path_where_no_file_can_be_written_is_a_store_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    path = blocker / "history.duckdb"  # its directory is a file: nothing can be created there
    with pytest.raises(StoreError, match="cannot open history store") as caught:
        DuckDBHistoryStore(path)
    assert str(path) in str(caught.value)
    assert blocker.read_text() == "in the way"


def _created(path: Path) -> str:
    store = DuckDBHistoryStore(path)
    append_all(store, completed_history())
    store.close()
    return store.store_id
