"""Activities on Ray tasks: the remote function, its options, and awaiting one attempt.

The hosting actor submits each attempt itself (a task dies with its submitter, so the host
stays while any of its tasks runs: README, "How it runs") and awaits it without blocking its
loop. A start-to-close timeout cancels the task and becomes a recorded ``TimeoutError``; a
task whose worker died becomes a retryable failure; neither reaches the workflow as a Ray
error.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ray

from aion_ray.actors.stubs import HostStub
from aion_ray.authoring.definitions import ActivityOptions
from aion_ray.authoring.heartbeat import Throttle, interval_for
from aion_ray.engine.activities import execute_activity
from aion_ray.engine.transport import AttemptKey
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.payload import Payload, encode
from aion_ray.runtime import commands as cmd

Outcome = tuple[Payload | None, ErrorInfo | None]


@ray.remote(max_retries=0)
def run_activity(
    command: cmd.ScheduleActivity, max_payload_bytes: int, host: HostStub, attempt: AttemptKey
) -> Outcome:
    """One attempt, in a Ray worker: user errors come back as ``ErrorInfo``, never raised;
    heartbeats go to the hosting actor, one-way and throttled."""
    if command.options.heartbeat_timeout is not None:
        host.alive(attempt)  # the heartbeat timeout counts from here, not from dispatch

    def send(details: Any) -> None:
        host.heartbeat(attempt, encode(details, what="heartbeat details"))

    beat = Throttle(interval_for(command.options.heartbeat_timeout), send)
    return execute_activity(command, max_payload_bytes, beat, attempt)


def task_options(options: ActivityOptions) -> dict[str, Any]:
    """The Ray task options an activity declares (retries are the engine's, never Ray's)."""
    chosen: dict[str, Any] = {"num_cpus": options.num_cpus, "max_retries": 0}
    if options.num_gpus:
        chosen["num_gpus"] = options.num_gpus
    if options.resources:
        chosen["resources"] = dict(options.resources)
    if options.memory is not None:
        chosen["memory"] = options.memory
    if options.runtime_env is not None:
        chosen["runtime_env"] = options.runtime_env
    return chosen


async def run_attempt(
    command: cmd.ScheduleActivity, max_payload_bytes: int, host: HostStub, attempt: AttemptKey
) -> Outcome:
    """Submit one attempt as a Ray task and await its outcome (cancelled with the caller)."""
    ref = run_activity.options(**task_options(command.options)).remote(
        command, max_payload_bytes, host, attempt
    )
    timeout = command.options.timeout
    try:
        outcome: Outcome = await asyncio.wait_for(_await(ref), timeout)
        return outcome
    except TimeoutError:
        ray.cancel(ref, force=True)
        return None, ErrorInfo(
            type="TimeoutError",
            message=f"activity {command.activity_type} ran over its {timeout}s timeout",
        )
    except asyncio.CancelledError:
        ray.cancel(ref, force=True)
        raise
    except ray.exceptions.RayError as exc:
        # The task's worker died (OOM, node loss, a crash in native code): retryable.
        return None, ErrorInfo(type=type(exc).__name__, message=str(exc).splitlines()[0])


async def _await(ref: Any) -> Outcome:
    outcome: Outcome = await ref
    return outcome
