"""Search attributes are checked where a start is built, before anything is written: a bad
value is a typed error naming it, and the id stays free for a good start."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

import aion_ray as aion
from aion_ray.engine.starts import StartSpec
from aion_ray.errors import InvalidInputError
from aion_ray.model.payload import encode
from aion_ray.model.visibility import checked_search_attributes
from aion_ray.testing import TestEngine

GOOD: dict[str, Any] = {"team": "ml", "epochs": 3, "loss": 0.25, "gpu": True, "tags": ["a"]}
BAD: list[dict[Any, Any]] = [
    {"when": datetime(2026, 1, 1, tzinfo=UTC)},
    {"thing": object()},
    {"loss": math.nan},
    {"loss": math.inf},
    {"big": 2**64},
    {"tags": ["a", 1]},
    {"tags": ("a", "b")},
    {3: "three"},
]


@aion.workflow
async def tagged(ctx: aion.WorkflowContext) -> str:
    return "done"


def test_good_attributes_pass_unchanged() -> None:
    assert checked_search_attributes(GOOD) == GOOD
    assert type(checked_search_attributes({"n": 2**63 - 1})["n"]) is int


@pytest.mark.parametrize("attributes", BAD, ids=[repr(next(iter(a))) for a in BAD])
def test_a_bad_attribute_is_refused_by_name(attributes: dict[Any, Any]) -> None:
    [name] = attributes
    with pytest.raises(InvalidInputError, match=repr(name)):
        checked_search_attributes(attributes)


@pytest.mark.parametrize("attributes", BAD[:3], ids=["datetime", "object", "nan"])
def test_a_start_spec_with_a_bad_attribute_cannot_be_built(attributes: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError, match="search attribute"):
        StartSpec("wf-1", tagged, encode(None), attributes)


@pytest.mark.parametrize("attributes", BAD[:3], ids=["datetime", "object", "nan"])
def test_a_refused_start_writes_nothing_and_the_id_stays_free(attributes: dict[str, Any]) -> None:
    engine = TestEngine()
    with pytest.raises(InvalidInputError, match="search attribute"):
        engine.start(tagged, id="wf-1", search_attributes=attributes)
    assert engine.store.read_history("wf-1") == []
    handle = engine.start(tagged, id="wf-1", search_attributes=GOOD)
    assert handle.result() == "done"
    assert engine.describe("wf-1").search_attributes == GOOD
