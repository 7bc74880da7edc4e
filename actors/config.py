"""The engine's settings, and the names of its actors in a namespace."""

from __future__ import annotations

import os
from dataclasses import dataclass

from aion_ray.errors import InvalidInputError
from aion_ray.model.payload import DEFAULT_MAX_PAYLOAD_BYTES

STORE_NAME = "aion-store"
REGISTRY_NAME = "aion-registry"
HOST_PREFIX = "aion-host-"
DEFAULT_STORE_PATH = os.path.join(".aion", "history.duckdb")


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

    def __post_init__(self) -> None:
        if not isinstance(self.namespace, str) or not self.namespace:
            raise InvalidInputError(f"namespace must be a non-empty str, got {self.namespace!r}")
        if not isinstance(self.idle_timeout, int | float) or self.idle_timeout <= 0:
            raise InvalidInputError(f"idle_timeout must be > 0 seconds, got {self.idle_timeout!r}")
        if not isinstance(self.workflows_per_actor, int) or self.workflows_per_actor < 1:
            raise InvalidInputError(
                f"workflows_per_actor must be an int >= 1, got {self.workflows_per_actor!r}"
            )
        count, window = self.restart_limit
        if not isinstance(count, int) or count < 0 or not window > 0:
            raise InvalidInputError(
                f"restart_limit must be (count >= 0, seconds > 0), got {self.restart_limit!r}"
            )
        if not (
            isinstance(self.pool_min, int)
            and isinstance(self.pool_max, int)
            and 0 <= self.pool_min <= self.pool_max
            and self.pool_max >= 1
        ):
            raise InvalidInputError(
                f"pool_size must be (min, max) ints with 0 <= min <= max and max >= 1, "
                f"got {(self.pool_min, self.pool_max)!r}"
            )
