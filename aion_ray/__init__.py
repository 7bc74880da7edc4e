"""aion-ray: durable workflows for Python on Ray.

import aion_ray as aion

@aion.activity(retry=aion.RetryPolicy(max_attempts=5))
def train(cfg: Config) -> Metrics: ...

@aion.workflow
async def nightly(ctx: aion.WorkflowContext, cfg: Config) -> Metrics:
    return await ctx.run(train, cfg)
"""

from __future__ import annotations

import importlib
from typing import Any

from aion_ray.authoring.definitions import (
    ActivityDefinition,
    ActivityOptions,
    RetryPolicy,
    WorkflowDefinition,
    activity,
    workflow,
)
from aion_ray.authoring.heartbeat import heartbeat
from aion_ray.authoring.logs import activity_logger
from aion_ray.display import (
    History,
    OfflineHistories,
    TimelinePicture,
    WorkflowList,
    open_history,
    wait,
    wait_async,
)
from aion_ray.errors import (
    ActivityError,
    AionError,
    EngineUnavailableError,
    FencedError,
    InvalidInputError,
    NonDeterminismError,
    PayloadError,
    QueryError,
    ScheduleNotFoundError,
    ScheduleSpecError,
    SequenceConflictError,
    StoreError,
    WorkflowAlreadyStartedError,
    WorkflowCancelledError,
    WorkflowFailedError,
    WorkflowNotFoundError,
    WorkflowStateError,
    WorkflowTerminalError,
    WorkflowTerminatedError,
    WorkflowTimedOutError,
    WorkflowUsageError,
)
from aion_ray.model.health import Health
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.schedule import ScheduleSpec
from aion_ray.model.schedule_state import ScheduleDescription, ScheduleRun
from aion_ray.model.visibility import WorkflowInfo
from aion_ray.runtime.children import ChildHandle
from aion_ray.runtime.context import WorkflowContext, WorkflowRunInfo

__all__ = [
    "ActivityDefinition",
    "ActivityError",
    "ActivityOptions",
    "AionError",
    "ChildHandle",
    "Client",
    "EngineUnavailableError",
    "FencedError",
    "Health",
    "History",
    "InvalidInputError",
    "NonDeterminismError",
    "OfflineHistories",
    "PayloadError",
    "QueryError",
    "RetryPolicy",
    "ScheduleDescription",
    "ScheduleHandle",
    "ScheduleNotFoundError",
    "ScheduleRun",
    "ScheduleSpec",
    "ScheduleSpecError",
    "SequenceConflictError",
    "StoreError",
    "TimelinePicture",
    "WorkflowAlreadyStartedError",
    "WorkflowCancelledError",
    "WorkflowContext",
    "WorkflowDefinition",
    "WorkflowFailedError",
    "WorkflowHandle",
    "WorkflowInfo",
    "WorkflowList",
    "WorkflowNotFoundError",
    "WorkflowRunInfo",
    "WorkflowStateError",
    "WorkflowStatus",
    "WorkflowTerminalError",
    "WorkflowTerminatedError",
    "WorkflowTimedOutError",
    "WorkflowUsageError",
    "activity",
    "activity_logger",
    "connect",
    "heartbeat",
    "open_history",
    "wait",
    "wait_async",
    "workflow",
]

_ON_RAY = {
    "connect": "aion_ray.actors.connect",
    "Client": "aion_ray.actors.client",
    "WorkflowHandle": "aion_ray.actors.handle",
    "ScheduleHandle": "aion_ray.actors.schedule_handle",
}


def __getattr__(name: str) -> Any:
    """The engine on Ray is imported on first use: ``import aion_ray`` stays Ray-free."""
    module = _ON_RAY.get(name)
    if module is None:
        raise AttributeError(f"module 'aion_ray' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
