"""Supervision: how soon a workflow whose host died is resumed, and when to give up on it.

A host's death (a crash, an OOM, a lost node) is not the workflow's fault: it is resumed on
another host, after a backoff that doubles with each death in the window. Past the restart
limit (``count`` deaths within ``window`` seconds) the run is failed instead, with an error
that says why; it can be reopened after a fix.
"""

from __future__ import annotations

from datetime import datetime

from aion_ray.model.clock import Clock
from aion_ray.model.error_info import ErrorInfo

FIRST_BACKOFF = 0.05
"""Seconds before the first resume after a death."""
LONGEST_BACKOFF = 10.0


class Supervisor:
    """Counts host deaths per workflow over a sliding window of the clock."""

    def __init__(self, clock: Clock, limit: tuple[int, float]) -> None:
        self._clock = clock
        self.count, self.window = limit
        self._deaths: dict[str, list[datetime]] = {}
        self.restarted = 0
        """Resumes after a death so far (a metric samples it)."""

    def died(self, workflow_id: str) -> float | None:
        """Record a death of the workflow's host: seconds to wait before resuming it, or
        None if this death passes the limit (fail the run)."""
        now = self._clock.now()
        recent = [
            at
            for at in self._deaths.get(workflow_id, [])
            if (now - at).total_seconds() < self.window
        ]
        recent.append(now)
        self._deaths[workflow_id] = recent
        if len(recent) > self.count:
            return None
        self.restarted += 1
        return min(LONGEST_BACKOFF, FIRST_BACKOFF * 2.0 ** (len(recent) - 1))

    def forget(self, workflow_id: str) -> None:
        """The workflow ended: its deaths no longer count."""
        self._deaths.pop(workflow_id, None)

    def failure(self) -> ErrorInfo:
        """The error that ends a run past the limit."""
        return ErrorInfo(
            type="RestartIntensityExceeded",
            message=f"its host died more than {self.count} time(s) within {self.window}s; fix "
            "the cause and reopen the run",
        )
