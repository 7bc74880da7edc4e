"""The activity attempts an AsyncHost runs: a local one in a thread of the host (its loop
stays free for queries and signals), any other through the transport (a Ray task the host
owns). Each attempt's outcome goes to ``report``; a cancelled attempt reports nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aion_ray.authoring.heartbeat import Throttle, interval_for
from aion_ray.engine.activities import execute_activity
from aion_ray.engine.driver import WorkflowDriver
from aion_ray.engine.transport import AttemptKey, Outcome, Transport
from aion_ray.model.payload import Payload, encode
from aion_ray.runtime import commands as cmd

Report = Callable[[WorkflowDriver, str, cmd.ScheduleActivity, int, Outcome], None]
Beat = Callable[[str, str, int, int, Payload], None]


class Attempts:
    """Running attempts by (workflow id, run id, activity id)."""

    def __init__(
        self, transport: Transport, max_payload_bytes: int, report: Report, beat: Beat
    ) -> None:
        self._transport = transport
        self._max_bytes = max_payload_bytes
        self._report = report
        self._beat = beat  # a local attempt's heartbeat (on the loop's thread)
        self._running: dict[tuple[str, str, int], asyncio.Task[None]] = {}

    def start(
        self, driver: WorkflowDriver, command: cmd.ScheduleActivity, attempt: int, run_id: str
    ) -> None:
        key = (driver.workflow_id, run_id, command.activity_id)
        task = asyncio.get_running_loop().create_task(self._run(driver, run_id, command, attempt))
        self._running[key] = task
        task.add_done_callback(lambda _: self._running.pop(key, None))

    def cancel(self, workflow_id: str, run_id: str, activity_id: int) -> None:
        task = self._running.pop((workflow_id, run_id, activity_id), None)
        if task is not None:
            task.cancel()

    def drop(self, workflow_id: str) -> None:
        """Cancel every attempt of the workflow (it left this host)."""
        for key in [key for key in self._running if key[0] == workflow_id]:
            self._running.pop(key).cancel()

    def workflows(self) -> set[str]:
        """The workflows with an attempt running."""
        return {key[0] for key in self._running}

    def close(self) -> None:
        for task in self._running.values():
            task.cancel()

    async def _run(
        self, driver: WorkflowDriver, run_id: str, command: cmd.ScheduleActivity, attempt: int
    ) -> None:
        key: AttemptKey = (driver.workflow_id, run_id, command.activity_id, attempt)
        if command.options.local:
            loop = asyncio.get_running_loop()

            def send(details: Any) -> None:  # from the activity's thread
                payload = encode(details, what="heartbeat details")
                loop.call_soon_threadsafe(self._beat, *key, payload)

            beat = Throttle(interval_for(command.options.heartbeat_timeout), send)
            outcome = await asyncio.to_thread(execute_activity, command, self._max_bytes, beat, key)
        else:
            outcome = await self._transport.run_activity(command, self._max_bytes, key)
        self._report(driver, run_id, command, attempt, outcome)
