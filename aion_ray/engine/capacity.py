"""A host's capacity: it holds workflows of one hosting group at a time, up to that group's
number per host, and refuses a placement beyond it (``HostFullError``). The host is the
authority: clients that start directly and the control plane both ask it, so neither can
overfill it from a stale view."""

from __future__ import annotations

from collections.abc import Callable

from aion_ray.errors import HostFullError

Slot = tuple[str, int]
"""A placement's hosting group and how many of its workflows one host holds."""


class Capacity:
    """Placements a host accepts; ``hosted()`` counts the workflows it holds now."""

    def __init__(self, name: str, hosted: Callable[[], int]) -> None:
        self.name = name
        self._hosted = hosted
        self.starting = 0  # placements accepted whose drivers do not exist yet
        self.group: str | None = None
        self.per_host = 0

    @property
    def load(self) -> int:
        return self._hosted() + self.starting

    def take(self, slot: Slot | None, count: int = 1) -> None:
        """Accept ``count`` placements for ``slot`` (None: unchecked) or raise HostFullError;
        call ``taken`` once their drivers exist (or the placements failed)."""
        if slot is not None:
            group, per_host = slot
            load = self.load
            if load == 0:
                self.group, self.per_host = group, per_host
            if self.group != group or load + count > self.per_host:
                raise HostFullError(self.name, load)
        self.starting += count

    def taken(self, count: int = 1) -> None:
        self.starting -= count

    def slot(self) -> Slot | None:
        """The group and size this host holds now (None: empty)."""
        if self.load == 0 or self.group is None:
            return None
        return self.group, self.per_host
