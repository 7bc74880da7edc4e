"""The definitions catalogue over Ray: the workflow code the engine was given, kept with the
store (its ``save_definition`` / ``load_definitions`` role), so a restarted registry, another
driver or a new cluster over the same file can run the workflows it finds there.

A definition is pickled by import path when it is importable, by value when it was defined
in ``__main__``, a script or a notebook cell; one entry per type and code fingerprint, the
newest wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import cloudpickle

from aion_ray.actors.stubs import StoreStub
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.control.code import missing
from aion_ray.errors import InvalidInputError
from aion_ray.model.error_info import ErrorInfo


def blob(definition: WorkflowDefinition[Any]) -> bytes:
    """The definition pickled (InvalidInputError if it cannot be)."""
    try:
        pickled: bytes = cloudpickle.dumps(definition)
    except Exception as exc:
        raise InvalidInputError(
            f"workflow {definition.name} cannot be pickled to keep with the store: {exc}"
        ) from exc
    return pickled


async def save(store: StoreStub, definition: WorkflowDefinition[Any]) -> None:
    """Keep ``definition`` with the store (InvalidInputError if it cannot be pickled)."""
    await store.save_definition(definition.name, definition.fingerprint, blob(definition))


def save_sync(store: StoreStub, definition: WorkflowDefinition[Any]) -> None:
    """``save`` for synchronous callers."""
    store.save_definition(definition.name, definition.fingerprint, blob(definition)).get()


async def load(
    store: StoreStub, workflow_types: Iterable[str]
) -> dict[str, WorkflowDefinition[Any] | ErrorInfo]:
    """For each type: its newest stored definition, or why there is none that loads here."""
    asked = sorted(set(workflow_types))
    blobs = await store.load_definitions(asked)
    return {
        workflow_type: _loaded(workflow_type, blobs.get(workflow_type)) for workflow_type in asked
    }


def _loaded(workflow_type: str, pickled: bytes | None) -> WorkflowDefinition[Any] | ErrorInfo:
    if pickled is None:
        return missing(workflow_type)
    try:
        definition: WorkflowDefinition[Any] = cloudpickle.loads(pickled)
    except Exception as exc:  # its module is gone, or its code changed shape
        return ErrorInfo(
            type="DefinitionUnloadable",
            message=f"the code of workflow type {workflow_type!r} cannot be loaded here: "
            f"{type(exc).__name__}: {exc}",
        )
    return definition
