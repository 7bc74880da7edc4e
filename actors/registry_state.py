"""The registry's state and the helpers every part of it uses.

``RegistryActor`` is built in layers, each a class over the one before: this state, then
placement and recovery (``registry_placement``), then residency and arrivals for workflows no
host holds (``registry_residency``), then the actor's starts, routing and client calls
(``registry``).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ray

from aion_ray.actors.calls import call
from aion_ray.actors.config import STORE_NAME, EngineConfig
from aion_ray.actors.parking import WakeHeap
from aion_ray.actors.pool import ActorPool, Member
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.model import events as ev
from aion_ray.model.clock import SystemClock
from aion_ray.model.payload import Payload
from aion_ray.model.visibility import WorkflowInfo

log = logging.getLogger("aion_ray.actors.registry")
UTC_CLOCK = SystemClock()
RECENT_CLOSURES = 10_000  # terminal events kept for result waits that come just after the end


@dataclass(frozen=True)
class StartSpec:
    """One ``client.start``: the input is encoded (and checked) by the client."""

    workflow_id: str
    definition: WorkflowDefinition[Any]
    payload: Payload
    search_attributes: dict[str, ev.SearchAttributeValue] | None = None
    new_run: bool = False
    """If the id's last run has ended, start another run under it (else it is refused)."""


@dataclass(frozen=True)
class Started:
    """A start's reply: the run, and the actor hosting it (a client may call it directly
    while the workflow stays there; the registry answers everything else)."""

    run_id: str
    host: Any


@dataclass
class Entry:
    """A workflow the registry hosts (closed ones leave; the store keeps the truth)."""

    workflow_id: str
    run_id: str
    workflow_type: str
    host: str | None  # None: suspended
    wake_at: datetime | None = None  # a suspended workflow's next timer


class RegistryState:
    """What the registry knows: where each open workflow lives, and its pool."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.store = ray.get_actor(STORE_NAME, namespace=config.namespace)
        self.entries: dict[str, Entry] = {}
        self.definitions: dict[str, WorkflowDefinition[Any]] = {}
        self._catalogued: set[tuple[str, str]] = set()
        self._closed: OrderedDict[str, ev.Event] = OrderedDict()
        self._results: dict[str, list[asyncio.Future[ev.Event]]] = {}
        self._placing: dict[str, asyncio.Future[None]] = {}
        self._pool: ActorPool | None = None
        self._ready: asyncio.Task[None] | None = None
        self._wakes: WakeHeap | None = None
        self._relieving = False
        self._relief_quiet_until = 0.0
        self._deaths: dict[str, list[float]] = {}  # workflow id -> when its hosts died
        self.calls: collections.Counter[str] = collections.Counter()  # for benchmarks

    @property
    def pool(self) -> ActorPool:
        assert self._pool is not None, "ready() runs first"
        return self._pool

    @property
    def wakes(self) -> WakeHeap:
        assert self._wakes is not None, "ready() runs first"
        return self._wakes

    def _member_of(self, workflow_id: str) -> Member | None:
        entry = self.entries.get(workflow_id)
        if entry is None or entry.host is None:
            return None
        return self.pool.members.get(entry.host)

    async def _history(self, workflow_id: str) -> list[ev.Event]:
        history: list[ev.Event] = await call(
            self.store.read_history.remote(workflow_id), STORE_NAME
        )
        return history

    async def _settled(self, workflow_id: str) -> None:
        """Wait while the workflow is being placed or resumed."""
        while (placing := self._placing.get(workflow_id)) is not None:
            await asyncio.shield(placing)

    def _mark_placing(self, workflow_id: str) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._placing[workflow_id] = done
        return done

    def _unplace(self, workflow_id: str, member: Member) -> None:
        entry = self.entries.get(workflow_id)
        if entry is not None and entry.host == member.name:
            del self.entries[workflow_id]
        self.pool.release(member.name, workflow_id)

    def _with_residency(self, info: WorkflowInfo) -> WorkflowInfo:
        resident = self._member_of(info.workflow_id) is not None
        return info.model_copy(update={"residency": "resident" if resident else "suspended"})
