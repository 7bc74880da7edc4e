"""Router: a client's view of the pool, kept by long-polling the registry, and the choice of
a host to start a workflow on directly (the data path: client -> host -> store).

The router keeps one ``registry.routes`` long poll outstanding (the registry answers when the
pool's version moves, or after ``POLL_TIMEOUT``) and takes its answer, without blocking,
whenever the client picks a host; the next poll goes out at most every ``POLL_PAUSE``. No
thread does this: a background thread blocked in Ray across ``ray.shutdown()`` would make Ray
end the process. With the registry gone the client keeps the last view it had, so it can
still start workflows on the warm pool. Between two views the router counts its own starts
against each host's room, frees a slot when a workflow it started ends, and marks a host full
when it refuses one; the host is the authority, so a stale view costs a refusal, never an
overfilled host.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import ray

from aion_ray.actors.stubs import HostStub, RegistryStub
from aion_ray.control.routes import Route
from aion_ray.engine.capacity import Slot

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10.0
"""Seconds the registry holds one long poll."""
POLL_PAUSE = 0.5
"""Seconds between two polls: a burst of changes costs the registry a few calls."""
UNREACHABLE_PAUSE = 1.0
"""Seconds between tries while the registry cannot be reached."""


@dataclass
class Target:
    """A host as this client counts it: its stub, hosting group, slot size and load."""

    stub: HostStub
    group: str | None
    per_host: int
    load: int

    @property
    def name(self) -> str:
        return self.stub.name


class Router:
    """See the module docstring. Thread-safe; nothing in it blocks but ``wait``."""

    def __init__(self, registry: RegistryStub) -> None:
        self._registry = registry
        self._lock = threading.Lock()
        self._targets: dict[str, Target] = {}
        self._version = -1
        self._pending: Any = None  # the outstanding long poll
        self._next_ask = 0.0
        self._closed = False
        self._ask()

    def wait(self, timeout: float) -> bool:
        """Wait for the first view of the pool; False if it did not come in time."""
        with self._lock:
            pending = self._pending
        if pending is not None:
            ray.wait([pending], timeout=timeout)
        self._refresh()
        return self._version >= 0

    def pick(self, slot: Slot) -> Target | None:
        """A host with room for ``slot`` (its group's fullest first, then an empty one),
        counted as taken; None: no host has room (the registry places it, or grows)."""
        self._refresh()
        group, per_host = slot
        with self._lock:
            same = [t for t in self._targets.values() if t.group == group and t.load < per_host]
            empty = [t for t in self._targets.values() if t.load == 0]
            chosen = max(same, key=lambda t: t.load, default=None) or next(iter(empty), None)
            if chosen is not None:
                chosen.group, chosen.per_host = group, per_host
                chosen.load += 1
            return chosen

    def refused(self, target: Target, load: int) -> None:
        """The host had no room: it holds ``load`` (its own count) and is full to us until
        a workflow there ends or the next view says otherwise."""
        with self._lock:
            target.load = max(load, target.per_host)

    def release(self, target: Target) -> None:
        """A pick that started nothing: its slot is free again."""
        with self._lock:
            target.load = max(0, target.load - 1)

    def ended(self, name: str) -> None:
        """A workflow on host ``name`` ended: its slot is free (until the next view says
        more; a host that is full after all refuses, and is marked so)."""
        with self._lock:
            target = self._targets.get(name)
            if target is not None and target.load > 0:
                target.load -= 1

    def hosts(self) -> int:
        """How many hosts the current view holds."""
        self._refresh()
        with self._lock:
            return len(self._targets)

    def gone(self, target: Target) -> None:
        with self._lock:
            self._targets.pop(target.name, None)

    def close(self) -> None:
        with self._lock:
            self._closed, self._pending = True, None

    def _refresh(self) -> None:
        """Take the answer of a finished long poll, and send the next one when it is time
        (never blocks)."""
        with self._lock:
            if self._closed or not ray.is_initialized():
                return
            if self._pending is None:
                if time.monotonic() >= self._next_ask:
                    self._ask_locked()
                return
            ready, _ = ray.wait([self._pending], timeout=0)
            if not ready:
                return
            ref, self._pending = self._pending, None
            try:
                version, routes = ray.get(ref)
            except Exception:  # the registry is down or restarting: keep the last view
                self._next_ask = time.monotonic() + UNREACHABLE_PAUSE
                return
            self._take(version, routes)
            self._next_ask = time.monotonic() + POLL_PAUSE

    def _ask(self) -> None:
        with self._lock:
            self._ask_locked()

    def _ask_locked(self) -> None:
        try:
            self._pending = self._registry.routes(self._version, POLL_TIMEOUT).ref()
        except Exception:
            self._next_ask = time.monotonic() + UNREACHABLE_PAUSE

    def _take(self, version: int, routes: list[tuple[Route, HostStub]]) -> None:
        self._version = version
        self._targets = {
            route.name: Target(stub, route.group, route.per_host, route.load)
            for route, stub in routes
        }

    def targets(self) -> list[Target]:
        """The hosts of the current view."""
        self._refresh()
        with self._lock:
            return list(self._targets.values())
