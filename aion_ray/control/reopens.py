"""Reopening a run that ended, on the control plane: no host holds an ended run, so the
control plane records the ``WorkflowReopened`` under its own lease (``engine.unhosted``
decides what it names, or why the run's state refuses it), then hosts the workflow again;
its new host replays the run and takes it on from where it ended."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aion_ray.engine.unhosted import reopen_events
from aion_ray.errors import EngineUnavailableError, SequenceConflictError
from aion_ray.model import events as ev
from aion_ray.model.history import current_run

if TYPE_CHECKING:
    from aion_ray.control.controller import Controller

CLOSE_NOTICE = 0.05
"""Seconds between looks while the end of a run is not yet reported by its host."""
CLOSE_NOTICE_TRIES = 200


async def reopen(control: Controller, workflow_id: str) -> None:
    """Reopen the workflow's run (see ``reopen_events`` for what it refuses, with nothing
    written). A run whose end its host has not reported yet is waited for: the report
    would otherwise arrive after the reopen and count as the reopened run's end."""
    for _ in range(CLOSE_NOTICE_TRIES):
        member = await control.placement.find(workflow_id)
        history = await control.store.read_history(workflow_id)
        reopened = reopen_events(workflow_id, history, control.clock)
        if member is not None:
            await asyncio.sleep(CLOSE_NOTICE)
            continue
        try:
            await control.store.append_as_holder(workflow_id, reopened, len(history))
        except SequenceConflictError:
            continue  # something was appended meanwhile: decide again
        control.results.forget(workflow_id)  # the end kept from before is not its end now
        started = current_run(history)[0]
        assert isinstance(started, ev.WorkflowStarted)
        await control.placement.resume(workflow_id, started.workflow_type)
        return
    raise EngineUnavailableError(
        "aion-registry", f"the host of {workflow_id!r} did not report the end of its run"
    )
