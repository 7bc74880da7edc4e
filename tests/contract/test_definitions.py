"""The definitions catalogue: opaque bytes per workflow type and code fingerprint, the newest
saved per type wins, and no definition is a workflow.

Every test runs against both stores (see the ``store`` fixture).
"""

from __future__ import annotations

from typing import Any

import pytest

from aion_ray.errors import InvalidInputError, StoreError
from aion_ray.storage import HistoryStore, definitions
from aion_ray.storage.definitions import MAX_NAME_LENGTH

PICKLE = b"\x80\x05\x95\x00binary\x00with NULs\xff"


def test_a_saved_definition_loads_as_the_same_bytes(store: HistoryStore) -> None:
    store.save_definition("pipeline", "fp-1", PICKLE)
    store.save_definition("report", "fp-9", b"report code")
    assert store.load_definitions(["pipeline", "report"]) == {
        "pipeline": PICKLE,
        "report": b"report code",
    }
    assert store.load_definitions(["report"]) == {"report": b"report code"}


def test_types_without_a_definition_are_left_out(store: HistoryStore) -> None:
    store.save_definition("pipeline", "fp-1", PICKLE)
    assert store.load_definitions(["unknown", "pipeline"]) == {"pipeline": PICKLE}
    assert store.load_definitions([]) == {}
    assert store.load_definitions(iter(["unknown"])) == {}


def test_the_newest_fingerprint_wins(store: HistoryStore) -> None:
    store.save_definition("pipeline", "fp-1", b"v1")
    store.save_definition("pipeline", "fp-2", b"v2")
    assert store.load_definitions(["pipeline"]) == {"pipeline": b"v2"}
    store.save_definition("pipeline", "fp-1", b"v1 again")  # the old code is back
    assert store.load_definitions(["pipeline"]) == {"pipeline": b"v1 again"}


def test_saving_the_newest_again_changes_nothing(store: HistoryStore) -> None:
    store.save_definition("pipeline", "fp-1", b"v1")
    store.save_definition("pipeline", "fp-2", b"v2")
    store.save_definition("pipeline", "fp-2", b"v2")
    store.save_definition("pipeline", "fp-2", b"v2")
    assert store.load_definitions(["pipeline", "pipeline"]) == {"pipeline": b"v2"}


def test_bytes_like_blobs_are_kept_as_bytes(store: HistoryStore) -> None:
    store.save_definition("a", "fp", bytearray(b"code"))  # type: ignore[arg-type]
    store.save_definition("b", "fp", memoryview(b"code"))  # type: ignore[arg-type]
    found = store.load_definitions(["a", "b"])
    assert found == {"a": b"code", "b": b"code"}
    assert all(type(blob) is bytes for blob in found.values())


def test_definitions_are_not_workflows(store: HistoryStore) -> None:
    store.save_definition("pipeline", "fp-1", PICKLE)
    assert store.list_workflows() == []
    assert store.count_workflows() == 0
    assert store.workflow_info("pipeline") is None
    assert store.read_history("pipeline") == []
    assert store.suspended_workflows() == []
    tables = store.sql(
        "select (select count(*) from workflows) as workflows, "
        "(select count(*) from lifecycle) as lifecycle, (select count(*) from events) as events"
    )
    assert tables.to_pylist() == [{"workflows": 0, "lifecycle": 0, "events": 0}]


@pytest.mark.parametrize(
    ("workflow_type", "fingerprint", "blob", "named"),
    [
        (None, "fp", b"x", "workflow_type"),
        ("", "fp", b"x", "workflow_type"),
        (" pipeline", "fp", b"x", "workflow_type"),
        ("p" * (MAX_NAME_LENGTH + 1), "fp", b"x", "workflow_type"),
        ("pipeline", 7, b"x", "fingerprint"),
        ("pipeline", "", b"x", "fingerprint"),
        ("pipeline", "fp", "not bytes", "bytes"),
        ("pipeline", "fp", None, "bytes"),
        ("pipeline", "fp", b"", "empty"),
    ],
)
def test_a_bad_definition_is_refused_and_nothing_is_written(
    store: HistoryStore, workflow_type: Any, fingerprint: Any, blob: Any, named: str
) -> None:
    with pytest.raises(InvalidInputError, match=named):
        store.save_definition(workflow_type, fingerprint, blob)
    assert store.load_definitions(["pipeline"]) == {}


def test_a_definition_over_the_limit_is_refused(
    store: HistoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(definitions, "MAX_DEFINITION_BYTES", 8)
    store.save_definition("pipeline", "fp-1", b"8 bytes!")
    with pytest.raises(InvalidInputError, match="limit is 8"):
        store.save_definition("pipeline", "fp-2", b"nine byte")
    assert store.load_definitions(["pipeline"]) == {"pipeline": b"8 bytes!"}


@pytest.mark.parametrize("workflow_types", ["pipeline", b"pipeline", 3, None, ["ok", 3], [""]])
def test_bad_type_names_to_load_are_refused(store: HistoryStore, workflow_types: Any) -> None:
    with pytest.raises(InvalidInputError, match="workflow"):
        store.load_definitions(workflow_types)


def test_a_closed_store_refuses_the_catalogue_and_the_suspensions(store: HistoryStore) -> None:
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.save_definition("pipeline", "fp-1", PICKLE)
    with pytest.raises(StoreError, match="closed"):
        store.load_definitions(["pipeline"])
    with pytest.raises(StoreError, match="closed"):
        store.suspended_workflows()
