"""The workflow code the control plane can run: definitions it was given by starts, or loaded
from the store's catalogue. A type whose code the catalogue lacks, or whose code cannot be
loaded here (its module is gone, it no longer unpickles), is remembered as broken, with the
reason: its workflows are failed with that reason instead of waiting forever, and a start of
the type with working code mends it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.control.ports import Store
from aion_ray.model.error_info import ErrorInfo

Loaded = Mapping[str, "WorkflowDefinition[Any] | ErrorInfo"]
"""Each type asked for: its definition, or why there is none."""


def missing(workflow_type: str) -> ErrorInfo:
    """Why a type has no definition: the store's catalogue does not keep its code."""
    return ErrorInfo(
        type="DefinitionMissing",
        message=f"the code of workflow type {workflow_type!r} is not kept with the store",
    )


class Code:
    """Definitions by workflow type; see the module docstring."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.known: dict[str, WorkflowDefinition[Any]] = {}
        self.broken: dict[str, ErrorInfo] = {}

    def add(self, definition: WorkflowDefinition[Any]) -> None:
        """Code a start brought (it mends a broken type)."""
        self.known[definition.name] = definition
        self.broken.pop(definition.name, None)

    def get(self, workflow_type: str) -> WorkflowDefinition[Any] | None:
        """The definition if known here (no store call)."""
        return self.known.get(workflow_type)

    async def load(self, workflow_types: Iterable[str]) -> None:
        """Load from the catalogue the types not known here yet."""
        missing = sorted({t for t in workflow_types if t not in self.known})
        if missing:
            self._learn(await self._store.load_definitions(missing))

    async def of(self, workflow_type: str) -> WorkflowDefinition[Any] | ErrorInfo:
        """The definition of ``workflow_type``, or why there is none."""
        await self.load([workflow_type])
        found = self.known.get(workflow_type)
        if found is not None:
            return found
        return self.broken.get(workflow_type) or missing(workflow_type)

    def _learn(self, loaded: Loaded) -> None:
        for workflow_type, found in loaded.items():
            if isinstance(found, ErrorInfo):
                self.broken[workflow_type] = found
            else:
                self.add(found)
