"""Rebuilds: hosting a workflow again from its stored history after its append was refused
(anything but fencing), on an AsyncHost.

The store may be out of reach for a while (restarting): the rebuild is tried again with
growing pauses. If it still cannot read the history, the host lets the workflow go and asks
the control plane to host it again (``wake``): a workflow is never left open with nobody
hosting it while the control plane believes it resident here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aion_ray.authoring.logs import workflow_fields
from aion_ray.errors import (
    AionError,
    EngineUnavailableError,
    FencedError,
    SequenceConflictError,
    StoreError,
)

log = logging.getLogger(__name__)

REBUILD_PAUSES = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Seconds between the tries of a rebuild whose history could not be read (about 15 s in
all, on top of the store stub's own retries), then the control plane is asked."""

Resume = Callable[[Sequence[str]], Awaitable[Any]]


class Rebuilds:
    """Rebuilds in flight on one host; see the module docstring."""

    def __init__(
        self,
        resume: Resume,
        hosts: Callable[[str], bool],
        wake: Callable[[Sequence[str]], None],
        pauses: Sequence[float] = REBUILD_PAUSES,
    ) -> None:
        """``resume``: host workflows from their histories; ``hosts``: whether a workflow
        is hosted here now; ``wake``: ask the control plane to host workflows again."""
        self._resume = resume
        self._hosts = hosts
        self._wake = wake
        self._pauses = pauses
        self._tasks: set[asyncio.Task[None]] = set()  # held: the loop keeps weak refs

    def run(self, workflow_id: str) -> None:
        """Rebuild ``workflow_id`` in the background."""
        task = asyncio.get_running_loop().create_task(self._rebuild(workflow_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _rebuild(self, workflow_id: str) -> None:
        fields = workflow_fields(workflow_id)
        for pause in (*self._pauses, None):
            try:
                await self._resume([workflow_id])
                return
            except AionError as exc:
                if self._hosts(workflow_id):
                    # Its history was read and it is hosted again: what failed is the
                    # append that followed, and that refusal starts a rebuild of its own.
                    return
                if pause is None:
                    break
                log.warning(
                    "rebuilding %s failed (%s); again in %ss", workflow_id, exc, pause, extra=fields
                )
                await asyncio.sleep(pause)
        log.error(
            "could not rebuild %s: the control plane is asked to host it", workflow_id, extra=fields
        )
        self._wake([workflow_id])


def may_have_landed(error: AionError) -> bool:
    """Whether an append that raised ``error`` may be in the store all the same (the store
    failed mid-way, or could not be reached to say): such a workflow is rebuilt from what
    is stored, never dropped."""
    if isinstance(error, SequenceConflictError | FencedError):
        return False  # refused: nothing was written
    return isinstance(error, StoreError | EngineUnavailableError)
