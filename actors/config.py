"""The engine's settings, and the names of its actors in a namespace."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from aion_ray.errors import InvalidInputError
from aion_ray.model.payload import DEFAULT_MAX_PAYLOAD_BYTES

STORE_NAME = "aion-store"
REGISTRY_NAME = "aion-registry"
HOST_PREFIX = "aion-host-"
DEFAULT_STORE_PATH = os.path.join(".aion", "history.duckdb")
LOCAL_RAY_CONFIG = {"idle_worker_killing_time_threshold_ms": 10_000}
"""Ray's settings for a local cluster that ``connect`` starts (tests and benchmarks use the
same). Ray's default reaps a worker process idle for 1 s beyond as many as the node has CPUs,
and starts new ones at most as many at a time as CPUs. While the store restarts (~2 s) no
activity is dispatched, so the workers that ran them were reaped, and every waiting activity
then waited for a new process: workflows took 8-11 s to move again after a store SIGKILL
instead of ~2 s (issue 15, 20 workflows on 2 CPUs). On a cluster ``connect`` joins, the same
is Ray's ``RAY_idle_worker_killing_time_threshold_ms`` (README, "Running workflows on Ray")."""


@dataclass(frozen=True)
class EngineConfig:
    """What ``aion.connect`` was asked for; the registry and its hosts run with it."""

    namespace: str
    store_path: str
    idle_timeout: float = 30.0
    workflows_per_actor: int = 1
    pool_min: int = 2
    pool_max: int = 32
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    restart_limit: tuple[int, float] = (5, 60.0)
    """At most this many host deaths of one workflow within that many seconds; past it the
    run fails (it can be reopened after a fix). Resumes after a death back off exponentially."""
    store_resource: str | None = None
    """The custom resource of the node holding the store file (None: the driver's node);
    the store actor and the registry run there (``actors.placement``)."""

    def __post_init__(self) -> None:
        if not isinstance(self.namespace, str) or not self.namespace:
            raise InvalidInputError(f"namespace must be a non-empty str, got {self.namespace!r}")
        if self.store_resource is not None and not (
            isinstance(self.store_resource, str) and self.store_resource.strip()
        ):
            raise InvalidInputError(
                f"store_resource must be a non-empty str, got {self.store_resource!r}"
            )
        if not _seconds(self.idle_timeout):
            raise InvalidInputError(f"idle_timeout must be > 0 seconds, got {self.idle_timeout!r}")
        if not _count(self.workflows_per_actor, least=1):
            raise InvalidInputError(
                f"workflows_per_actor must be an int >= 1, got {self.workflows_per_actor!r}"
            )
        if not _count(self.max_payload_bytes, least=1):
            raise InvalidInputError(
                f"max_payload_bytes must be an int >= 1, got {self.max_payload_bytes!r}"
            )
        limit = self.restart_limit
        if not (
            isinstance(limit, tuple) and len(limit) == 2 and _count(limit[0]) and _seconds(limit[1])
        ):
            raise InvalidInputError(
                f"restart_limit must be (count >= 0, seconds > 0), got {limit!r}"
            )
        if not (
            _count(self.pool_min)
            and _count(self.pool_max, least=1)
            and self.pool_min <= self.pool_max
        ):
            raise InvalidInputError(
                f"pool_size must be (min, max) ints with 0 <= min <= max and max >= 1, "
                f"got {(self.pool_min, self.pool_max)!r}"
            )


def _count(value: object, least: int = 0) -> bool:
    """An int (not a bool) of at least ``least``."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _seconds(value: object) -> bool:
    """A finite number of seconds > 0 (not a bool, not NaN or infinity)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )
