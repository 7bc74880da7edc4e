"""The main task of a run: calls the workflow function and turns its ending into a command."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

from aion_ray.errors import NonDeterminismError, PayloadError, error_info_from
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.payload import Payload, decode, encode
from aion_ray.runtime import commands as cmd
from aion_ray.runtime.context import ContinueAsNewRequested, WorkflowContext

if TYPE_CHECKING:
    from aion_ray.runtime.run import WorkflowRun


async def run_main(run: WorkflowRun) -> None:
    """Run the workflow function to its end and close the run accordingly."""
    definition = run.definition
    ctx = WorkflowContext(run, attempt=run.attempt)
    run.context = ctx
    try:
        if definition.takes_input:
            arg = decode(
                run.started.input, definition.input_type, what=f"input of {definition.name}"
            )
            result: Any = await definition.fn(ctx, arg)
        else:
            result = await definition.fn(ctx)
    except ContinueAsNewRequested as request:
        run.close(_continue_as_new(run, request.arg))
    except asyncio.CancelledError:
        reason = run.state.cancel_reason
        run.close(cmd.CancelWorkflow(reason) if reason else _failure("the workflow was cancelled"))
    except NonDeterminismError:
        return  # the run fails with the violation, whatever the code made of it
    except Exception as exc:
        run.close(cmd.FailWorkflow(error_info_from(exc)))
    else:
        run.close(_completion(run, result))


def _completion(run: WorkflowRun, result: Any) -> cmd.Command:
    what = f"result of workflow {run.definition.name}"
    payload = _encoded(run, result, run.definition.result_type, what)
    return cmd.CompleteWorkflow(payload) if isinstance(payload, Payload) else payload


def _continue_as_new(run: WorkflowRun, arg: Any) -> cmd.Command:
    definition = run.definition
    what = f"continue-as-new input of {definition.name}"
    payload = _encoded(run, arg, definition.input_type, what)
    if not isinstance(payload, Payload):
        return payload
    next_run = str(uuid.UUID(int=run.id_rng.getrandbits(128), version=4))
    return cmd.ContinueAsNew(definition.name, payload, next_run)


def _encoded(
    run: WorkflowRun, value: Any, annotation: Any, what: str
) -> Payload | cmd.FailWorkflow:
    """``value`` encoded with the workflow's codec, or the failure that ends the run if it
    cannot be (a result too large, or of the wrong type, fails the run; it is not lost)."""
    try:
        return encode(
            value,
            codec=run.definition.codec,
            annotation=annotation,
            max_bytes=run.max_payload_bytes,
            what=what,
        )
    except PayloadError as exc:
        return cmd.FailWorkflow(error_info_from(exc))


def _failure(message: str) -> cmd.Command:
    return cmd.FailWorkflow(ErrorInfo(type="CancelledError", message=message))
