"""The scheduler's ports: the store that keeps the schedules, and the code of a workflow
type (both the store actor's, on Ray)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.schedule_state import StoredSchedule
from aion_ray.model.visibility import WorkflowInfo


class ScheduleStore(Protocol):
    """What the scheduler asks of the store (the store actor's stub, on Ray)."""

    def put_schedule(self, schedule: StoredSchedule) -> Awaitable[None]: ...
    def put_schedules(self, schedules: Sequence[StoredSchedule]) -> Awaitable[None]: ...
    def list_schedules(
        self, after: str | None, limit: int | None
    ) -> Awaitable[list[StoredSchedule]]: ...
    def delete_schedule(self, schedule_id: str) -> Awaitable[bool]: ...
    def workflow_infos(
        self, workflow_ids: Sequence[str]
    ) -> Awaitable[list[WorkflowInfo | None]]: ...


LoadCode = Callable[[str], Awaitable[WorkflowDefinition[Any] | ErrorInfo]]
"""The newest stored code of a workflow type, or why there is none that loads here."""
