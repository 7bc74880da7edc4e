"""Result waits answered by the host that runs the workflow, one hop shorter than the registry.

A caller that knows the host asks it for the workflow's end; the host answers when the run's
terminal event is durable (through continue-as-new, whose next run stays on this host), or at
once if the workflow closed here a moment ago. When the workflow leaves the host (suspended,
taken over) the wait ends with ``WorkflowNotFoundError`` and the caller asks the registry,
which knows where everything is; a wait on a host is also bounded (``longest``), so a way of
leaving that nobody reported costs the caller time, never an answer.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Callable, Sequence

from aion_ray.engine.transport import Closure
from aion_ray.errors import WorkflowNotFoundError
from aion_ray.model import events as ev

RECENTLY_CLOSED = 1024
"""Terminal events kept after a run closed here: the caller's wait often arrives after it."""
RECENT_SECONDS = 10.0
"""How long such an end is answered from here (later, the registry knows better: the
workflow may have taken a new run elsewhere)."""
LONGEST_WAIT = 5.0
"""Seconds a host holds one result wait at most; then the caller asks the registry."""


Waiters = dict[str, list["asyncio.Future[ev.Event | None]"]]
"""Callers waiting on each workflow's end (a wait that timed out is told None)."""


async def wait_end(waiters: Waiters, workflow_id: str, timeout: float | None) -> ev.Event | None:
    """Wait among ``waiters`` for the workflow's terminal event (None: ``timeout`` passed);
    the wait is taken out of ``waiters`` however it ends."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[ev.Event | None] = loop.create_future()
    waiters.setdefault(workflow_id, []).append(waiter)
    # A loop timer, not asyncio.wait_for: wait_for's inner task and callbacks cost the answer
    # two more loop turns, behind whatever else the loop does once an end is durable.
    expiry = None if timeout is None else loop.call_later(timeout, _expire, waiter)
    try:
        return await waiter
    finally:
        if expiry is not None:
            expiry.cancel()
        waiting = waiters.get(workflow_id, [])
        if waiter in waiting:
            waiting.remove(waiter)
        if not waiting:
            waiters.pop(workflow_id, None)


def _expire(waiter: asyncio.Future[ev.Event | None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class ResultWaits:
    """Callers waiting on the end of workflows this host runs."""

    def __init__(self, hosted: Callable[[str], bool]) -> None:
        self._hosted = hosted
        self._waiters: Waiters = {}
        self._recent: collections.OrderedDict[str, tuple[ev.Event, float]] = (
            collections.OrderedDict()
        )

    async def wait(self, workflow_id: str, timeout: float | None) -> ev.Event | None:
        """The terminal event of the workflow's last run, None if ``timeout`` (at most
        LONGEST_WAIT) passed first; WorkflowNotFoundError if it is not, or no longer, here."""
        recent = self._recent.get(workflow_id)
        if recent is not None and time.monotonic() - recent[1] < RECENT_SECONDS:
            return recent[0]
        if not self._hosted(workflow_id):
            raise WorkflowNotFoundError(workflow_id)
        limit = LONGEST_WAIT if timeout is None else min(timeout, LONGEST_WAIT)
        return await wait_end(self._waiters, workflow_id, limit)

    def closed(self, closures: Sequence[Closure]) -> None:
        """These runs' ends are durable: answer their waiters (a continue-as-new is no end)."""
        for closure in closures:
            if isinstance(closure.terminal, ev.WorkflowContinuedAsNew):
                continue
            self._recent[closure.workflow_id] = (closure.terminal, time.monotonic())
            self._recent.move_to_end(closure.workflow_id)
            while len(self._recent) > RECENTLY_CLOSED:
                self._recent.popitem(last=False)
            for waiter in self._waiters.pop(closure.workflow_id, []):
                if not waiter.done():
                    waiter.set_result(closure.terminal)

    def started(self, workflow_id: str) -> None:
        """A new run of the workflow begins here: an end kept from an earlier one is stale."""
        self._recent.pop(workflow_id, None)

    def left(self, workflow_id: str) -> None:
        """The workflow is no longer hosted here: its waiters ask the registry instead."""
        for waiter in self._waiters.pop(workflow_id, []):
            if not waiter.done():
                waiter.set_exception(WorkflowNotFoundError(workflow_id))
