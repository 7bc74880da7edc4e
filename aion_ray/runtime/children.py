"""ChildHandle: a started child workflow, awaitable for its result."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any, Generic, TypeVar

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.errors import (
    WorkflowCancelledError,
    WorkflowFailedError,
    WorkflowTerminatedError,
    WorkflowTimedOutError,
)
from aion_ray.model import events as ev
from aion_ray.model.payload import decode

T = TypeVar("T")


class ChildHandle(Generic[T]):
    """A child workflow this run started. ``await handle`` gives its decoded result or raises
    WorkflowFailedError / WorkflowCancelledError / WorkflowTimedOutError /
    WorkflowTerminatedError."""

    def __init__(
        self,
        workflow_id: str,
        run_id: str,
        definition: WorkflowDefinition[T],
        outcome: asyncio.Future[ev.Event],
    ) -> None:
        self.workflow_id = workflow_id
        self.run_id = run_id
        self._definition = definition
        self._outcome = outcome

    def __await__(self) -> Generator[Any, None, T]:
        return self.result().__await__()

    async def result(self) -> T:
        # Shielded: cancelling the awaiting task does not forget the child's outcome.
        event = await asyncio.shield(self._outcome)
        if isinstance(event, ev.ChildWorkflowCompleted):
            value: T = decode(event.result, self._definition.result_type, what="child result")
            return value
        assert isinstance(event, ev.ChildWorkflowFailed)
        if event.status == "cancelled":
            raise WorkflowCancelledError(self.workflow_id, self.run_id, event.error.message)
        if event.status == "timed_out":
            raise WorkflowTimedOutError(self.workflow_id, self.run_id, event.error.message)
        if event.status == "terminated":
            raise WorkflowTerminatedError(self.workflow_id, self.run_id, event.error.message)
        raise WorkflowFailedError(self.workflow_id, self.run_id, event.error)

    def __repr__(self) -> str:
        return f"ChildHandle({self.workflow_id!r}, type={self._definition.name!r})"
