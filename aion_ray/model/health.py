"""What ``client.health()`` reports: the engine's system actors, its pool of hosts and its
workflows, as seen at one moment. An actor that cannot be reached is reported so (with the
reason), never raised: health is what an operator asks when something is wrong."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RegistryHealth:
    """The control plane (``aion-registry``). ``restarted``: Ray re-created it at least
    once; ``hosts_died``: host deaths it has seen since it (re)started."""

    reachable: bool
    pid: int | None = None
    restarted: bool = False
    hosts_died: int = 0
    error: str | None = None


@dataclass(frozen=True)
class StoreHealth:
    """The history store (``aion-store``): its file, its size, and the median time of its
    recent appends (until COMMIT), in milliseconds (None: none yet)."""

    reachable: bool
    path: str = ""
    size_bytes: int = 0
    commit_ms: float | None = None
    appends: int = 0
    error: str | None = None


@dataclass(frozen=True)
class PoolHealth:
    """The hosts (workflow actors): live, holding workflows, empty, being started, and
    the placements waiting for a slot; at most ``max_hosts``."""

    hosts: int
    busy: int
    idle: int
    starting: int
    waiting: int
    max_hosts: int


@dataclass(frozen=True)
class Health:
    """The whole engine; ``pool``, ``resident`` and ``suspended`` are None while the
    registry cannot be reached (``view_hosts`` is then the client's last view of the pool)."""

    registry: RegistryHealth
    store: StoreHealth
    pool: PoolHealth | None
    resident: int | None
    suspended: int | None
    view_hosts: int

    @property
    def ok(self) -> bool:
        """Both system actors answer."""
        return self.registry.reachable and self.store.reachable

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for JSON)."""
        fields = dataclasses.asdict(self)
        fields["ok"] = self.ok
        return fields
