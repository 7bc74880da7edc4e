"""Result waits at the control plane: callers waiting on a workflow's end, and the ends of
workflows that closed a moment ago (a caller's wait often arrives just after the end)."""

from __future__ import annotations

import collections

from aion_ray.engine.results import Waiters, wait_end
from aion_ray.model import events as ev

RECENT_ENDS = 10_000
"""Terminal events kept for waits that come just after the end."""


class Results:
    """Waiters by workflow id, answered when the workflow's run ends."""

    def __init__(self) -> None:
        self._waiters: Waiters = {}
        self._recent: collections.OrderedDict[str, ev.Event] = collections.OrderedDict()

    def recent(self, workflow_id: str) -> ev.Event | None:
        return self._recent.get(workflow_id)

    def forget(self, workflow_id: str) -> None:
        """A new run began under the id: the end kept from the last one is stale."""
        self._recent.pop(workflow_id, None)

    def ended(self, workflow_id: str, terminal: ev.Event) -> None:
        self._recent[workflow_id] = terminal
        self._recent.move_to_end(workflow_id)
        while len(self._recent) > RECENT_ENDS:
            self._recent.popitem(last=False)
        for waiter in self._waiters.pop(workflow_id, []):
            if not waiter.done():
                waiter.set_result(terminal)

    async def wait(self, workflow_id: str, timeout: float | None) -> ev.Event | None:
        """The terminal event of the workflow's current run (None: ``timeout`` passed)."""
        return await wait_end(self._waiters, workflow_id, timeout)
