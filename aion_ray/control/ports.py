"""What the control plane reaches the world through: typed seams, so its logic never names a
transport (the registry actor implements them over Ray; tests over fakes)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.engine.capacity import Slot
from aion_ray.engine.starts import StartEvent
from aion_ray.engine.transport import Placed
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.payload import Payload
from aion_ray.model.store import LifecycleEntry
from aion_ray.model.visibility import WorkflowInfo

Resumed = dict[str, "str | ev.Event | None"]
"""A host's answer to a resume: each id's run id once resident, its terminal event if it had
ended, or None if it has no history."""


class HostDied(Exception):
    """A call to a host failed because the host is gone (its death is reported apart)."""


class HostUnreachable(Exception):
    """A host did not answer for a while (it may be alive, and may still hold workflows):
    a call that must not block on it (learning what it holds) passes it by."""


class Host(Protocol):
    """One host (a workflow actor) as the control plane calls it. Every method raises
    ``HostDied`` if the host is gone, ``HostUnreachable`` if it did not answer for a while,
    and the host's own AionError if it refused (a start or a resume with no room for
    ``slot``: HostFullError)."""

    name: str

    async def start(
        self,
        definition: WorkflowDefinition[Any],
        workflow_id: str,
        started: StartEvent,
        run_id: str,
        slot: Slot,
    ) -> None: ...
    async def resume(
        self,
        definitions: Sequence[WorkflowDefinition[Any]],
        workflow_ids: Sequence[str],
        slot: Slot,
    ) -> Resumed: ...
    async def placements(self) -> list[Placed]:
        """What the host holds now."""
        ...

    async def signal(
        self, workflow_id: str, name: str, payload: Payload, request_id: str
    ) -> None: ...
    async def cancel(self, workflow_id: str, reason: str) -> bool: ...
    async def terminate(self, workflow_id: str, reason: str) -> None: ...
    async def hold(self, workflow_id: str, reason: str | None) -> None: ...
    async def query(self, workflow_id: str, name: str, args: Sequence[Any]) -> Any: ...
    async def idle(self) -> dict[str, float]: ...
    def suspend(self, workflow_ids: Sequence[str]) -> None: ...
    def child_finished(self, workflow_id: str, child_id: int, terminal: ev.Event) -> None: ...
    def child_not_started(self, workflow_id: str, child_id: int, error: ErrorInfo) -> None: ...
    def stop(self) -> None: ...


class Fleet(Protocol):
    """Starts hosts. A host's death is reported to ``Pool.died`` by whoever watches it."""

    async def spawn(self, name: str) -> Host:
        """A new, ready host named ``name``; raises if none could be started."""
        ...

    async def running(self) -> Sequence[Host]:
        """The live hosts an earlier control plane started (this one re-attaches to them
        after a restart, and starts no second pool beside them)."""
        ...


class Store(Protocol):
    """The history store as the control plane uses it."""

    async def read_history(self, workflow_id: str) -> list[ev.Event]: ...
    async def append_as_holder(
        self, workflow_id: str, events: Sequence[ev.Event], head: int
    ) -> None:
        """Append at ``head``, taking the workflow's lease for the control plane in the same
        transaction; raises the store's refusal (SequenceConflictError: the head moved)."""
        ...

    async def record_lifecycle(self, entries: Sequence[LifecycleEntry]) -> None: ...
    async def running(self) -> list[WorkflowInfo]:
        """The workflows whose last run is open (running or paused)."""
        ...

    async def suspended(self) -> dict[str, datetime | None]:
        """Running workflows whose last suspension is still their last word, each with its
        next wake (None: it waits only for a signal, a child or a cancel)."""
        ...

    async def save_definition(self, definition: WorkflowDefinition[Any]) -> None: ...
    async def load_definitions(
        self, workflow_types: Sequence[str]
    ) -> Mapping[str, WorkflowDefinition[Any] | ErrorInfo]:
        """For each type asked: the newest definition kept with the store, or why there is
        none that runs here (not kept, or it does not load)."""
        ...


class Timers(Protocol):
    """Calls a function later (the event loop's timers, or a fake clock's)."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> None: ...
