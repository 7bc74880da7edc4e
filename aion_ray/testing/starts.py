"""Starting a workflow: the WorkflowStarted draft, and the idempotent-start check."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.engine.recorder import EventDraft, draft
from aion_ray.errors import WorkflowAlreadyStartedError
from aion_ray.model import events as ev
from aion_ray.model.payload import Payload


def start_event(
    definition: WorkflowDefinition[Any],
    payload: Payload,
    search_attributes: dict[str, ev.SearchAttributeValue] | None = None,
) -> EventDraft:
    return draft(
        ev.WorkflowStarted,
        workflow_type=definition.name,
        input=payload,
        code_fingerprint=definition.fingerprint,
        execution_timeout=definition.timeout,
        search_attributes=search_attributes or None,
    )


def existing_start(
    history: Sequence[ev.Event], definition: WorkflowDefinition[Any], payload: Payload
) -> None:
    """A start for an id that exists is accepted only if it asks for the same workflow."""
    first = history[0]
    assert isinstance(first, ev.WorkflowStarted)
    if first.workflow_type != definition.name:
        raise WorkflowAlreadyStartedError(
            first.workflow_id,
            f"it is a {first.workflow_type!r} workflow, not {definition.name!r}",
        )
    if first.input != payload:
        raise WorkflowAlreadyStartedError(first.workflow_id, "it was started with different input")
