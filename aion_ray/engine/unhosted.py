"""Records for a workflow no host holds (suspended, ended, or given up on), written by the
control plane under its own lease and replayed later by the host that takes it.

While a workflow is suspended only its history exists; the control plane records a signal
or a cancel request itself (record-before-deliver), then makes the workflow resident, and
the new host replays the arrival from history. It may also end a run: one an operator
terminates, or one it gives up on (a workflow whose hosts keep dying); start a new run of one
that ended; or reopen one that ended, which a host then takes up again. These are the
decisions that recording needs, with no I/O: the caller reads the history and appends what
is returned.
"""

from __future__ import annotations

from collections.abc import Sequence

from aion_ray.engine.outcomes import terminal_status
from aion_ray.engine.recorder import EventDraft, Recorder, draft
from aion_ray.errors import WorkflowNotFoundError, WorkflowStateError, WorkflowTerminalError
from aion_ray.model import events as ev
from aion_ray.model.clock import Clock
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.history import (
    REOPENABLE_TERMINALS,
    current_run,
    is_paused,
    replayed_run,
    status_of,
)
from aion_ray.model.payload import Payload
from aion_ray.runtime.cursor import command_key


def signal_events(
    history: Sequence[ev.Event], clock: Clock, name: str, payload: Payload, request_id: str
) -> list[ev.Event]:
    """The SignalReceived to append ([] if this request was recorded already)."""
    recorder = _open_recorder(history, clock, "signal")
    if any(
        isinstance(e, ev.SignalReceived) and e.request_id == request_id
        for e in current_run(history)
    ):
        return []
    arrival = draft(ev.SignalReceived, name=name, payload=payload, request_id=request_id)
    return recorder.stamp([arrival])


def cancel_events(history: Sequence[ev.Event], clock: Clock, reason: str) -> list[ev.Event]:
    """The WorkflowCancelRequested to append ([] if one is recorded for this run)."""
    recorder = _open_recorder(history, clock, "cancel")
    if any(isinstance(e, ev.WorkflowCancelRequested) for e in replayed_run(current_run(history))):
        return []
    return recorder.stamp([draft(ev.WorkflowCancelRequested, reason=reason)])


def terminate_events(history: Sequence[ev.Event], clock: Clock, reason: str) -> list[ev.Event]:
    """The WorkflowTerminated that ends the run; WorkflowTerminalError if it has ended."""
    recorder = _open_recorder(history, clock, "terminate")
    return recorder.stamp([draft(ev.WorkflowTerminated, reason=reason)])


def pause_events(history: Sequence[ev.Event], clock: Clock, reason: str) -> list[ev.Event]:
    """The WorkflowPaused of a held run; WorkflowStateError if it is paused already."""
    recorder = _open_recorder(history, clock, "pause")
    if is_paused(current_run(history)):
        raise WorkflowStateError(recorder.workflow_id, "paused", "pause")
    return recorder.stamp([draft(ev.WorkflowPaused, reason=reason)])


def resume_events(history: Sequence[ev.Event], clock: Clock) -> list[ev.Event]:
    """The WorkflowResumed that ends a hold; WorkflowStateError if the run is not paused."""
    recorder = _open_recorder(history, clock, "resume")
    if not is_paused(current_run(history)):
        raise WorkflowStateError(recorder.workflow_id, "running", "resume")
    return recorder.stamp([draft(ev.WorkflowResumed)])


def reopen_events(workflow_id: str, history: Sequence[ev.Event], clock: Clock) -> list[ev.Event]:
    """The WorkflowReopened that continues a failed, cancelled, timed-out or terminated run
    (the same run), naming the activities whose terminal failure ended it: they run again,
    with a fresh retry budget. WorkflowNotFoundError for no history; WorkflowStateError
    naming the status for a run in any other state (running, paused, completed...)."""
    if not history:
        raise WorkflowNotFoundError(workflow_id)
    recorder = Recorder(workflow_id, clock, history)
    if not isinstance(recorder.terminal, REOPENABLE_TERMINALS):
        raise WorkflowStateError(workflow_id, str(status_of(history)), "reopen")
    failed = ended_in_failure(current_run(history))
    return recorder.stamp([draft(ev.WorkflowReopened, reopened_activities=failed)])


def ended_in_failure(run: Sequence[ev.Event]) -> tuple[int, ...]:
    """The activities whose terminal failure came after the run's last command (what the
    code asked for last, before it ended): reopened, they run again. An activity whose
    failure the code caught and went on from is not one of them: running it again would
    contradict the commands recorded after it."""
    failed: list[int] = []
    for event in reversed(replayed_run(run)):
        if isinstance(event, ev.ActivityFailed) and event.terminal:
            failed.append(event.activity_id)
        elif isinstance(event, ev.WorkflowReopened) or (
            not isinstance(event, ev.TERMINAL_EVENTS) and command_key(event) is not None
        ):
            break
    return tuple(sorted(set(failed)))


def failure_events(history: Sequence[ev.Event], clock: Clock, error: ErrorInfo) -> list[ev.Event]:
    """The WorkflowFailed that ends a run its holder gives up on (e.g. its hosts keep dying)."""
    recorder = _open_recorder(history, clock, "fail")
    return recorder.stamp([draft(ev.WorkflowFailed, error=error)])


def new_run_events(
    history: Sequence[ev.Event], clock: Clock, started: EventDraft, run_id: str
) -> list[ev.Event]:
    """The WorkflowStarted of a new run a caller asked for, after the last run ended (a
    continue-as-new is not an end: that workflow is still running)."""
    recorder = Recorder(history[0].workflow_id, clock, history)
    if recorder.terminal is None or isinstance(recorder.terminal, ev.WorkflowContinuedAsNew):
        raise ValueError("a new run follows a run that ended")
    return recorder.stamp([started], run_id=run_id)


def _open_recorder(history: Sequence[ev.Event], clock: Clock, operation: str) -> Recorder:
    if not history:
        raise ValueError("a suspended workflow has a history")
    recorder = Recorder(history[0].workflow_id, clock, history)
    if recorder.terminal is not None:
        raise WorkflowTerminalError(
            recorder.workflow_id, recorder.run_id, terminal_status(recorder.terminal), operation
        )
    return recorder
