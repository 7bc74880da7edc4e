"""KnownIds: a Bloom filter may say "perhaps" of a new id, never "absent" of a known one."""

from __future__ import annotations

import uuid

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from aion_ray.storage.duckdb.known_ids import FIRST_LAYER, KnownIds


def loaded(ids: list[str]) -> KnownIds:
    con = duckdb.connect()
    con.register("given", pa.table({"workflow_id": pa.array(ids, pa.string())}))
    con.execute("CREATE TABLE leases AS SELECT workflow_id, 1 AS epoch, '' AS holder FROM given")
    known = KnownIds()
    known.load(con.cursor()).join()
    return known


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=40), max_size=200))
def test_no_loaded_or_added_id_is_ever_certainly_absent(ids: list[str]) -> None:
    known = loaded(ids[: len(ids) // 2])
    known.add_all(ids[len(ids) // 2 :])
    assert not any(known.certainly_absent(wid) for wid in ids)


def test_growing_past_a_layer_keeps_every_id_and_few_false_positives() -> None:
    known = loaded([])
    ids = [str(uuid.uuid4()) for _ in range(FIRST_LAYER * 3)]  # three layers
    known.add_all(ids)
    assert not any(known.certainly_absent(wid) for wid in ids)
    strangers = [str(uuid.uuid4()) for _ in range(20_000)]
    false_positives = sum(not known.certainly_absent(wid) for wid in strangers)
    assert false_positives < 0.04 * len(strangers)  # about 0.8% per layer, two or three layers


def test_a_large_store_gets_a_layer_sized_for_its_ids() -> None:
    ids = [str(uuid.uuid4()) for _ in range(FIRST_LAYER)]  # past half the first layer
    known = loaded(ids)
    assert not any(known.certainly_absent(wid) for wid in ids)
    strangers = [str(uuid.uuid4()) for _ in range(20_000)]
    assert sum(not known.certainly_absent(wid) for wid in strangers) < 0.01 * len(strangers)


def test_before_loading_nothing_is_certainly_absent() -> None:
    assert not KnownIds().certainly_absent("never-seen")
