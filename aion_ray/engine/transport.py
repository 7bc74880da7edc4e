"""What an AsyncHost exchanges with the rest of the engine: its Transport, and the records
it sends out (runs that ended, workflows placed on it directly; workflows it suspends go
out as the store's ``SuspendedWorkflow``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.payload import Payload
from aion_ray.model.store import AppendRequest, AppendResult, SuspendedWorkflow
from aion_ray.runtime import commands as cmd

Outcome = tuple[Payload | None, ErrorInfo | None]
AttemptKey = tuple[str, str, int, int]
"""(workflow id, run id, activity id, attempt): where an attempt's heartbeats go."""


@dataclass(frozen=True, slots=True)
class Closure:
    """A run that ended on this host (``terminal`` may be a continue-as-new)."""

    workflow_id: str
    run_id: str
    terminal: ev.Event
    parent: ev.ParentRef | None


@dataclass(frozen=True, slots=True)
class Placed:
    """A workflow a host took without the control plane placing it (a client started it
    there directly): reported so the control plane knows where it lives."""

    workflow_id: str
    run_id: str
    workflow_type: str
    slot: tuple[str, int]


class Transport(Protocol):
    """How an AsyncHost reaches the rest of the engine."""

    async def append_batch(self, requests: Sequence[AppendRequest]) -> list[AppendResult]: ...
    async def read_histories(self, workflow_ids: Sequence[str]) -> dict[str, list[ev.Event]]: ...
    async def run_activity(
        self, command: cmd.ScheduleActivity, max_bytes: int, attempt: AttemptKey
    ) -> Outcome: ...
    async def start_child(
        self, parent_id: str, parent_run_id: str, command: cmd.StartChild
    ) -> None:
        """Hand a recorded child to the control plane; returns once it has taken it (raises
        EngineUnavailableError if it cannot be reached: the host sends it again)."""
        ...

    async def send_signal(self, command: cmd.SendSignal, request_id: str) -> None:
        """Hand a workflow's signal to the control plane; returns once it is recorded at
        its target, or found undeliverable (raises as ``start_child``)."""
        ...

    def closed(self, closures: Sequence[Closure]) -> None: ...
    def placed(self, placements: Sequence[Placed], withdrawn: Sequence[Placed] = ()) -> None: ...
    async def suspended(self, suspensions: Sequence[SuspendedWorkflow]) -> bool:
        """Tell the control plane these workflows leave this host for their histories;
        False if it cannot be reached (then they stay: only it can wake them)."""
        ...

    def wake(self, workflow_ids: Sequence[str]) -> None:
        """Ask the control plane to make these suspended workflows resident again."""
        ...
