"""ErrorInfo: how a failure is recorded in history and carried across processes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ErrorInfo(BaseModel):
    """A failure described by data: the exception type name, its message and traceback.

    Recorded in ``WorkflowFailed``, ``ActivityFailed`` and ``ChildWorkflowFailed``; the original
    exception object is not kept, because its class may not exist where the history is read.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    message: str
    traceback: str = ""
    cause: ErrorInfo | None = None
