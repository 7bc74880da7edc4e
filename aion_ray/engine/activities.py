"""Running one activity attempt in-process: decode its arguments, call it, encode its result."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import inspect
from typing import Any

from aion_ray.authoring.heartbeat import Sink, heartbeats_to
from aion_ray.authoring.logs import Attempt, attempt_logging
from aion_ray.errors import PayloadError, error_info_from
from aion_ray.model.clock import monotonic
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.payload import Payload, decode_arguments, encode
from aion_ray.runtime import commands as cmd


def execute_activity(
    command: cmd.ScheduleActivity,
    max_payload_bytes: int,
    beat: Sink | None = None,
    attempt: Attempt | None = None,
) -> tuple[Payload | None, ErrorInfo | None]:
    """Run ``command``'s activity once; return (result, None) or (None, error). Its
    ``aion.heartbeat`` calls go to ``beat`` (throttled by the caller); its
    ``aion.activity_logger()`` records carry ``attempt`` (workflow, run, activity, number)."""
    definition = command.definition
    if definition is None:
        return None, ErrorInfo(
            type="InvalidInputError",
            message=f"no implementation known for activity {command.activity_type!r}",
        )
    try:
        args = decode_arguments(
            command.input, definition.param_types, what=f"arguments of {definition.name}"
        )
        started = monotonic()
        with heartbeats_to(beat), attempt_logging(command.activity_type, attempt):
            value = _call(definition.fn, args)
        elapsed = monotonic() - started
    except Exception as exc:
        return None, error_info_from(exc)
    timeout = command.options.timeout
    if timeout is not None and elapsed > timeout:
        return None, ErrorInfo(
            type="TimeoutError",
            message=f"activity took {elapsed:.3f}s, over its {timeout}s timeout",
        )
    try:
        payload = encode(
            value,
            codec=command.options.codec,
            annotation=definition.result_type,
            max_bytes=max_payload_bytes,
            what=f"result of activity {definition.name}",
        )
    except PayloadError as exc:
        return None, error_info_from(exc)
    return payload, None


def _call(fn: Any, args: list[Any]) -> Any:
    if not inspect.iscoroutinefunction(fn):
        return fn(*args)
    # An async activity gets an event loop of its own, on a thread, so that it also works
    # when the test itself runs inside an event loop.
    # The context is copied so that heartbeats reach the attempt's sink from that thread.
    context = contextvars.copy_context()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(context.run, asyncio.run, fn(*args)).result()
