"""Background work of the control plane: tasks it starts and does not await."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class Background:
    """Holds the tasks it runs (the event loop keeps only weak references to tasks) and
    logs the failure of any, so no error of the control plane's own work goes unseen."""

    def __init__(self) -> None:
        self._held: set[asyncio.Task[Any]] = set()

    def run(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._held.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._held.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("control plane task %s failed", task.get_coro(), exc_info=error)
