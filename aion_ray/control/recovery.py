"""Recovery when the control plane starts over a store that holds running workflows.

A workflow whose last suspension is still its last word (nothing recorded since) was blocked
on durable waits when the engine stopped: it stays suspended, with its wake armed, and costs
no host until a signal, a timer, a child or a query brings it back. Every other running
workflow (resident when the engine stopped, or given something since it was suspended) is
resumed, at most ``RECOVERY_PARALLEL`` at a time, so a store with thousands of running
workflows does not ask the pool for thousands of slots at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aion_ray.authoring.logs import workflow_fields
from aion_ray.model.visibility import WorkflowInfo

log = logging.getLogger(__name__)

RECOVERY_PARALLEL = 32
"""Resumes in flight at once during recovery."""

Resume = Callable[[str, str], Awaitable[None]]
"""Resume (workflow id, workflow type)."""


@dataclass(frozen=True)
class Plan:
    resume: list[WorkflowInfo] = field(default_factory=list)
    suspended: list[tuple[WorkflowInfo, datetime | None]] = field(default_factory=list)


def plan(running: Sequence[WorkflowInfo], suspended: dict[str, datetime | None]) -> Plan:
    """Which running workflows to resume and which to leave suspended (with their wakes)."""
    made = Plan()
    for info in running:
        if info.workflow_id in suspended:
            made.suspended.append((info, suspended[info.workflow_id]))
        else:
            made.resume.append(info)
    return made


async def paced(workflow_ids: Sequence[tuple[str, str]], resume: Resume) -> None:
    """Resume each (id, type), at most RECOVERY_PARALLEL at a time."""
    gate = asyncio.Semaphore(RECOVERY_PARALLEL)

    async def one(workflow_id: str, workflow_type: str) -> None:
        async with gate:
            try:
                await resume(workflow_id, workflow_type)
            except Exception:  # one workflow's failure must not stop the others' recovery
                log.exception(
                    "recovering %s failed", workflow_id, extra=workflow_fields(workflow_id)
                )

    await asyncio.gather(*(one(wid, wtype) for wid, wtype in workflow_ids))
