"""Hold: an operator's pause of one workflow's run, and its resume.

A paused run is held, durably: ``WorkflowPaused`` is in its history, so a host that rebuilds
it from history holds it too. While held, it starts no activity attempt and launches no
child (``RunRecording`` keeps them back), and the timers and retry backoffs that fall due are
kept here; signals are still recorded and delivered. ``WorkflowResumed`` lets all of it go:
the kept wakes fire, the held attempts and children start. The workflow code never sees
either event, so a history replays the same with or without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aion_ray.errors import WorkflowStateError
from aion_ray.model.store import WakeKey

if TYPE_CHECKING:
    from aion_ray.engine.driver import WorkflowDriver

HELD_WAKES = ("timer", "retry")
"""The wakes a pause keeps until resume (a deadline and a heartbeat timeout still apply)."""


class Hold:
    """The pause state of one driver's run; see the module docstring."""

    def __init__(self, driver: WorkflowDriver) -> None:
        self._driver = driver
        self._kept: list[WakeKey] = []

    @property
    def paused(self) -> bool:
        return self._driver.recording.paused

    def pause(self, reason: str) -> None:
        """Hold the run. WorkflowStateError if it is paused already, WorkflowTerminalError
        (naming its status) if it has ended; nothing is written then."""
        self._check("pause", paused=False)
        self._driver.recording.hold(reason)

    def resume(self) -> None:
        """Let the run go on: what fell due while it was held is delivered now.
        WorkflowStateError if it is not paused, WorkflowTerminalError if it has ended."""
        self._check("resume", paused=True)
        driver = self._driver
        driver.recording.release()
        kept, self._kept = self._kept, []
        run = driver.run
        timers = {t.timer_id for t in run.outstanding().timers} if run is not None else set()
        for key in kept:
            if key[0] != "timer" or key[1] in timers:  # not cancelled while it was kept
                driver.fire(key)

    def keeps(self, key: WakeKey) -> bool:
        """Whether ``key``, just fallen due, is kept until resume (the run is paused)."""
        if self.paused and key[0] in HELD_WAKES:
            self._kept.append(key)
            return True
        return False

    def _check(self, operation: str, *, paused: bool) -> None:
        driver = self._driver
        if not driver.is_open:
            raise driver.terminal_error(operation)
        if self.paused is not paused:
            status = "paused" if self.paused else "running"
            raise WorkflowStateError(driver.workflow_id, status, operation)
        driver.pending.urgent = True
