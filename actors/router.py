"""Router: a client's view of the pool, kept by long-polling the registry, and the choice of
a host to start a workflow on directly (the data path: client -> host -> store).

A daemon thread asks ``registry.routes`` for the view whenever its version moves (at most
every ``POLL_PAUSE`` seconds); with the registry gone the client keeps the last view it had,
so it can still start workflows on the warm pool. Between two views the router counts its
own starts against each host's room and marks a host full when it refuses one; the host is
the authority, so a stale view costs a refusal, never an overfilled host.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import ray

from aion_ray.control.routes import Route
from aion_ray.engine.capacity import Slot

log = logging.getLogger(__name__)

POLL_TIMEOUT = 10.0
"""Seconds the registry holds one long poll."""
POLL_PAUSE = 0.5
"""Seconds between two polls: a burst of changes costs the registry a few calls. Between
views the router counts its own starts, and learns of their ends from their results."""
UNREACHABLE_PAUSE = 1.0
"""Seconds between tries while the registry cannot be reached."""


@dataclass
class Target:
    name: str
    handle: Any
    group: str | None
    per_host: int
    load: int


class Router:
    """See the module docstring. ``pick`` and the accounting are thread-safe."""

    def __init__(self, registry: Any) -> None:
        self._registry = registry
        self._lock = threading.Lock()
        self._targets: dict[str, Target] = {}
        self._version = -1
        self._first = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="aion-router", daemon=True)
        self._thread.start()

    def wait(self, timeout: float) -> bool:
        """Wait for the first view of the pool; False if it did not come in time."""
        return self._first.wait(timeout)

    def pick(self, slot: Slot) -> Target | None:
        """A host with room for ``slot`` (its group's fullest first, then an empty one),
        counted as taken; None: no host has room (the registry places it, or grows)."""
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
        with self._lock:
            return len(self._targets)

    def gone(self, target: Target) -> None:
        with self._lock:
            self._targets.pop(target.name, None)

    def close(self) -> None:
        self._stopped.set()

    def _poll(self) -> None:
        while not self._stopped.is_set() and ray.is_initialized():
            try:
                ref = self._registry.routes.remote(self._version, POLL_TIMEOUT)
                version, routes = ray.get(ref, timeout=POLL_TIMEOUT * 3)
            except Exception:  # the registry is down or restarting: keep the last view
                if self._stopped.wait(UNREACHABLE_PAUSE):
                    return
                continue
            self._take(version, routes)
            time.sleep(POLL_PAUSE)

    def _take(self, version: int, routes: list[tuple[Route, Any]]) -> None:
        with self._lock:
            self._version = version
            self._targets = {
                route.name: Target(route.name, handle, route.group, route.per_host, route.load)
                for route, handle in routes
            }
        self._first.set()
