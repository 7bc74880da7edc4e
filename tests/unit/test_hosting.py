"""Hosting options of a workflow type: checked when declared, and the slot they give."""

from __future__ import annotations

from typing import Any

import pytest

import aion_ray as aion
from aion_ray.authoring.hosting import Hosting


@pytest.mark.parametrize(
    "options",
    [
        {"workflows_per_actor": 0},
        {"workflows_per_actor": 2.5},
        {"workflows_per_actor": True},
        {"idle_timeout": 0},
        {"idle_timeout": -1.0},
        {"idle_timeout": "soon"},
    ],
)
def test_bad_hosting_options_are_refused_when_declared(options: dict[str, Any]) -> None:
    name = next(iter(options))
    with pytest.raises(aion.InvalidInputError, match=name):

        @aion.workflow(**options)
        async def flow(ctx: aion.WorkflowContext) -> None:
            return None


def test_a_type_keeps_the_engine_group_unless_it_sets_its_own_number() -> None:
    assert Hosting().slot("nightly", 4) == ("", 4)
    assert Hosting(idle_timeout=5.0).slot("nightly", 4) == ("", 4)
    assert Hosting(workflows_per_actor=1).slot("nightly", 4) == ("nightly", 1)


def test_a_definition_pickled_before_hosting_existed_reads_the_engine_defaults() -> None:
    @aion.workflow
    async def older(ctx: aion.WorkflowContext) -> None:
        return None

    del older.__dict__["hosting"]  # as a definition kept by value by an earlier version
    assert older.hosting == Hosting()
