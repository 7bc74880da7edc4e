"""The definitions catalogue: the workflow code the engine was given, kept with the store.

A restarted registry, another driver or a new cluster over the same store file must run the
workflows it finds there. Each workflow type's definition is pickled (by import path when it
is importable, by value when it was defined in ``__main__``, a script or a notebook cell) and
recorded once per code fingerprint in the lifecycle log under the id ``aion.definitions/<type>``
(kind ``definition``); the newest entry of a type wins.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import cloudpickle

from aion_ray.actors.calls import call
from aion_ray.actors.config import STORE_NAME
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.model.store import LifecycleEntry

PREFIX = "aion.definitions/"
KIND = "definition"


def catalogue_id(workflow_type: str) -> str:
    return PREFIX + workflow_type


def entry_for(definition: WorkflowDefinition[Any]) -> LifecycleEntry:
    blob = base64.b64encode(cloudpickle.dumps(definition)).decode("ascii")
    return LifecycleEntry(
        workflow_id=catalogue_id(definition.name),
        recorded_at=datetime.now(UTC),
        kind=KIND,
        detail={"fingerprint": definition.fingerprint, "pickle": blob},
    )


async def load(store: Any, workflow_types: Iterable[str]) -> dict[str, WorkflowDefinition[Any]]:
    """The newest stored definition of each type that has one."""
    found: dict[str, WorkflowDefinition[Any]] = {}
    for workflow_type in set(workflow_types):
        entries = await call(store.read_lifecycle.remote(catalogue_id(workflow_type)), STORE_NAME)
        kept = [e for e in entries if e.kind == KIND]
        if kept:
            blob = base64.b64decode(kept[-1].detail["pickle"])
            found[workflow_type] = cloudpickle.loads(blob)
    return found
