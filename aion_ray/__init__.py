"""aion-ray: durable workflows for Python on Ray.

import aion_ray as aion

@aion.activity(retry=aion.RetryPolicy(max_attempts=5))
def train(cfg: Config) -> Metrics: ...

@aion.workflow
async def nightly(ctx: aion.WorkflowContext, cfg: Config) -> Metrics:
    return await ctx.run(train, cfg)
"""

from aion_ray.authoring.definitions import (
    ActivityDefinition,
    ActivityOptions,
    RetryPolicy,
    WorkflowDefinition,
    activity,
    workflow,
)
from aion_ray.errors import (
    ActivityError,
    AionError,
    FencedError,
    InvalidInputError,
    NonDeterminismError,
    PayloadError,
    QueryError,
    SequenceConflictError,
    StoreError,
    WorkflowAlreadyStartedError,
    WorkflowCancelledError,
    WorkflowFailedError,
    WorkflowNotFoundError,
    WorkflowTerminalError,
    WorkflowTimedOutError,
    WorkflowUsageError,
)
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.visibility import WorkflowInfo
from aion_ray.runtime.children import ChildHandle
from aion_ray.runtime.context import WorkflowContext, WorkflowRunInfo

__all__ = [
    "ActivityDefinition",
    "ActivityError",
    "ActivityOptions",
    "AionError",
    "ChildHandle",
    "FencedError",
    "InvalidInputError",
    "NonDeterminismError",
    "PayloadError",
    "QueryError",
    "RetryPolicy",
    "SequenceConflictError",
    "StoreError",
    "WorkflowAlreadyStartedError",
    "WorkflowCancelledError",
    "WorkflowContext",
    "WorkflowDefinition",
    "WorkflowFailedError",
    "WorkflowInfo",
    "WorkflowNotFoundError",
    "WorkflowRunInfo",
    "WorkflowStatus",
    "WorkflowTerminalError",
    "WorkflowTimedOutError",
    "WorkflowUsageError",
    "activity",
    "workflow",
]
