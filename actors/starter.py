"""A client's starts on the data path: straight to a host the router picks (client -> host
-> store), with no registry call. A start goes to the registry instead when no host has room
(it queues there, and the pool grows or relieves), when the id exists already (the registry
adopts it, refuses it, or starts a new run), or when ``new_run`` is asked.

The workflow's code is kept with the store once per code version per client, before its
first direct start, so any host, driver or cluster can run it later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aion_ray.actors import catalogue
from aion_ray.actors.registry import Started
from aion_ray.actors.router import Router, Target
from aion_ray.actors.stubs import StoreStub
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.engine.capacity import Slot
from aion_ray.engine.starts import StartSpec
from aion_ray.errors import (
    AionError,
    EngineUnavailableError,
    HostFullError,
    SequenceConflictError,
)

DIRECT_TRIES = 3
"""Hosts a start tries before it goes to the registry."""

Reply = Started | AionError | None
"""A direct start's outcome: started, refused for good, or None (ask the registry)."""


class Starter:
    """Direct starts for one client; see the module docstring."""

    def __init__(self, router: Router, store: StoreStub, workflows_per_actor: int) -> None:
        self.router = router
        self.store = store
        self.workflows_per_actor = workflows_per_actor
        self._catalogued: set[tuple[str, str]] = set()

    def slot(self, definition: WorkflowDefinition[Any]) -> Slot:
        return definition.hosting.slot(definition.name, self.workflows_per_actor)

    def start(self, spec: StartSpec) -> Reply:
        """Start on a host (blocking); None: the registry must place it."""
        if spec.new_run:
            return None
        self._catalogue(spec.definition)
        slot = self.slot(spec.definition)
        for _ in range(DIRECT_TRIES):
            target = self.router.pick(slot)
            if target is None:
                return None
            try:
                [reply] = target.stub.start([spec], slot).get()
            except EngineUnavailableError:
                self.router.gone(target)
                continue
            outcome = self._outcome(target, reply)
            if not isinstance(outcome, _Again):
                return outcome
        return None

    async def start_many(self, specs: Sequence[StartSpec]) -> list[Reply]:
        """Start each spec on a host, one call per host for the specs it takes; None for
        those the registry must place."""
        replies: list[Reply] = [None] * len(specs)
        todo = [i for i, spec in enumerate(specs) if not spec.new_run]
        fresh = {(specs[i].definition.name, specs[i].definition.fingerprint) for i in todo}
        for name, fingerprint in fresh - self._catalogued:  # a thread hop only for new code
            definition = next(s.definition for s in specs if s.definition.name == name)
            if definition.fingerprint == fingerprint:
                await asyncio.to_thread(self._catalogue, definition)
        for _ in range(DIRECT_TRIES):
            todo = await self._round(specs, todo, replies)
            if not todo:
                break
        return replies

    async def _round(
        self, specs: Sequence[StartSpec], todo: list[int], replies: list[Reply]
    ) -> list[int]:
        """Send each waiting spec to a host; the indexes to try again."""
        batches: dict[tuple[str, Slot], tuple[Target, list[int]]] = {}
        for index in todo:
            slot = self.slot(specs[index].definition)
            target = self.router.pick(slot)
            if target is not None:
                batches.setdefault((target.name, slot), (target, []))[1].append(index)
        sent = await asyncio.gather(
            *(
                self._send(target, slot, [specs[i] for i in indexes])
                for (_, slot), (target, indexes) in batches.items()
            )
        )
        again = []
        for (target, indexes), answers in zip(batches.values(), sent, strict=True):
            for index, reply in zip(indexes, answers, strict=True):
                outcome = self._outcome(target, reply)
                if isinstance(outcome, _Again):
                    again.append(index)
                else:
                    replies[index] = outcome
        return again

    async def _send(self, target: Target, slot: Slot, specs: list[StartSpec]) -> list[Any]:
        try:
            answers: list[Any] = await target.stub.start(specs, slot)
            return answers
        except EngineUnavailableError as exc:
            self.router.gone(target)
            return [exc] * len(specs)

    def _outcome(self, target: Target, reply: Any) -> Reply | _Again:
        if isinstance(reply, str):
            return Started(reply, target.stub)
        if isinstance(reply, HostFullError):
            self.router.refused(target, reply.load)
            return _AGAIN
        self.router.release(target)  # nothing started there: the slot it counted is free
        if isinstance(reply, EngineUnavailableError):
            return _AGAIN
        if isinstance(reply, SequenceConflictError):
            return None  # the id exists: the registry adopts, refuses or starts a new run
        if isinstance(reply, AionError):
            return reply
        return None

    def _catalogue(self, definition: WorkflowDefinition[Any]) -> None:
        """Keep the definition with the store the first time this client starts it."""
        key = (definition.name, definition.fingerprint)
        if key in self._catalogued:
            return
        catalogue.save_sync(self.store, definition)
        self._catalogued.add(key)


class _Again:
    """A host refused for lack of room, or died: try another."""


_AGAIN = _Again()
