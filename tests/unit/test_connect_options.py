"""Bad ``aion.connect`` options are refused with InvalidInputError naming the option, before
Ray is started or a store file is made."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import aion_ray as aion
from aion_ray.actors.config import LOCAL_RAY_CONFIG
from aion_ray.actors.connect import _tuned


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"restart_limit": 5}, "restart_limit"),
        ({"restart_limit": (1, math.nan)}, "restart_limit"),
        ({"restart_limit": (True, 60.0)}, "restart_limit"),
        ({"max_payload_bytes": -1}, "max_payload_bytes"),
        ({"max_payload_bytes": 0}, "max_payload_bytes"),
        ({"idle_timeout": math.nan}, "idle_timeout"),
        ({"idle_timeout": math.inf}, "idle_timeout"),
        ({"idle_timeout": True}, "idle_timeout"),
        ({"workflows_per_actor": True}, "workflows_per_actor"),
        ({"pool_size": (True, 2)}, "pool_size"),
    ],
)
def test_bad_connect_options_name_what_was_wrong(
    options: dict[str, Any], named: str, tmp_path: Path
) -> None:
    with pytest.raises(aion.InvalidInputError, match=named):
        aion.connect(store_path=tmp_path / "h.duckdb", **options)
    assert not (tmp_path / "h.duckdb").exists()


@pytest.mark.parametrize(("address", "tuned"), [(None, True), ("local", True), ("auto", False)])
def test_connect_tunes_only_a_ray_it_starts(address: str | None, tuned: bool) -> None:
    # Ray refuses _system_config when joining a cluster; a local one keeps idle workers.
    expected = {"_system_config": LOCAL_RAY_CONFIG} if tuned else {}
    assert _tuned(address) == expected
    assert LOCAL_RAY_CONFIG["idle_worker_killing_time_threshold_ms"] >= 5_000
