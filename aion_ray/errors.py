"""Every error aion-ray raises, under one root.

    AionError
    ├── InvalidInputError (also ValueError)   a public call got bad input; nothing was written
    │   ├── PayloadError                       a value cannot be encoded, decoded, or is too large
    │   ├── InvalidEventError                  malformed events, or seqs with gaps or duplicates
    │   ├── SqlRefusedError                    user SQL that is not a single read-only query
    │   │   └── SqlLimitError                  a query stopped at a limit: time, memory, result
    │   └── ScheduleSpecError                  a schedule spec that cannot work, or conflicts
    ├── WorkflowNotFoundError
    ├── ScheduleNotFoundError
    ├── WorkflowAlreadyStartedError
    ├── WorkflowTerminalError                  e.g. a signal to a run that has ended
    ├── WorkflowStateError                     e.g. resume of a run that is not paused
    ├── WorkflowOutcomeError                   how a run ended, raised by ``result()``
    │   ├── WorkflowFailedError
    │   ├── WorkflowCancelledError
    │   ├── WorkflowTimedOutError
    │   └── WorkflowTerminatedError
    ├── ActivityError                          an activity failed for good; seen by workflow code
    ├── NonDeterminismError                    workflow code diverged from its recorded history
    ├── WorkflowUsageError                     the workflow API used where it cannot work
    ├── QueryError
    ├── EngineUnavailableError                 an engine actor died or failed unexpectedly
    ├── HostFullError                          a host refused a placement: its slots are taken
    └── StoreError
        ├── SequenceConflictError              stale expected_seq: a second writer exists
        └── FencedError                        stale lease epoch: this writer lost its lease

Every error pickles with its fields intact (Ray ships exceptions by pickling them): fields are
kept as attributes and ``__reduce__`` restores them without calling ``__init__``.
"""

from __future__ import annotations

from typing import Any

from aion_ray.model.error_info import ErrorInfo

NON_DETERMINISM_PREFIX = "non-determinism violation"


def _restore(cls: type[AionError], args: tuple[Any, ...], state: dict[str, Any]) -> AionError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class AionError(Exception):
    """Root of every aion-ray error. The message is ``args[0]``; fields are attributes."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))


class InvalidInputError(AionError, ValueError):
    """A public entry point received input it cannot accept; nothing was written."""


class PayloadError(InvalidInputError):
    """A value could not be encoded or decoded by its codec, or exceeds the size limit."""


class InvalidEventError(InvalidInputError):
    """Events handed to a store are malformed or their seqs are not contiguous."""

    def __init__(self, workflow_id: str, reason: str) -> None:
        super().__init__(f"invalid events for workflow {workflow_id!r}: {reason}")
        self.workflow_id = workflow_id
        self.reason = reason


class SqlRefusedError(InvalidInputError):
    """User SQL was refused before it ran: only a single read-only query is allowed."""

    def __init__(self, query: str, reason: str) -> None:
        super().__init__(f"SQL refused ({reason}): {query[:200]!r}")
        self.query = query
        self.reason = reason


class SqlLimitError(SqlRefusedError):
    """User SQL was stopped while it ran, at one of the store's limits: ``limit`` is
    ``"time"``, ``"memory"`` or ``"result"``. Nothing was written; the store carries on."""

    def __init__(self, query: str, limit: str, reason: str) -> None:
        super().__init__(query, reason)
        self.limit = limit


class ScheduleSpecError(InvalidInputError):
    """A bad schedule spec (cron, interval, policy, zone, times) or an id held by another one."""


class ScheduleNotFoundError(AionError):
    """No schedule has this id."""


class WorkflowNotFoundError(AionError):
    """No workflow with this id exists."""

    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"workflow {workflow_id!r} not found")
        self.workflow_id = workflow_id


class WorkflowAlreadyStartedError(AionError):
    """A start named an id whose existing workflow is different (type or input)."""

    def __init__(self, workflow_id: str, reason: str) -> None:
        super().__init__(f"workflow {workflow_id!r} already started: {reason}")
        self.workflow_id = workflow_id
        self.reason = reason


class WorkflowTerminalError(AionError):
    """The operation needs a running workflow, but its current run has ended."""

    def __init__(self, workflow_id: str, run_id: str, status: str, operation: str) -> None:
        super().__init__(
            f"cannot {operation} workflow {workflow_id!r}: run {run_id} has ended ({status})"
        )
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.status = status
        self.operation = operation


class WorkflowStateError(AionError):
    """The operation does not apply to the run's current state (``status``: running or
    paused); nothing was written."""

    def __init__(self, workflow_id: str, status: str, operation: str) -> None:
        super().__init__(f"cannot {operation} workflow {workflow_id!r}: it is {status}")
        self.workflow_id = workflow_id
        self.status = status
        self.operation = operation


class WorkflowOutcomeError(AionError):
    """Base of the errors ``result()`` raises for a run that did not complete."""

    workflow_id: str
    run_id: str


class WorkflowFailedError(WorkflowOutcomeError):
    """The run failed; ``cause`` describes the error the workflow raised."""

    def __init__(self, workflow_id: str, run_id: str, cause: ErrorInfo) -> None:
        super().__init__(f"workflow {workflow_id!r} failed: {cause.type}: {cause.message}")
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.cause = cause


class WorkflowCancelledError(WorkflowOutcomeError):
    """The run was cancelled."""

    def __init__(self, workflow_id: str, run_id: str, reason: str) -> None:
        super().__init__(f"workflow {workflow_id!r} was cancelled: {reason}")
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.reason = reason


class WorkflowTimedOutError(WorkflowOutcomeError):
    """The run exceeded its execution timeout."""

    def __init__(self, workflow_id: str, run_id: str, timeout: str) -> None:
        super().__init__(f"workflow {workflow_id!r} timed out ({timeout})")
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.timeout = timeout


class WorkflowTerminatedError(WorkflowOutcomeError):
    """An operator terminated the run: it ended at once, with no cleanup."""

    def __init__(self, workflow_id: str, run_id: str, reason: str) -> None:
        super().__init__(f"workflow {workflow_id!r} was terminated ({reason or 'no reason'})")
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.reason = reason


class ActivityError(AionError):
    """An activity failed for good (retries exhausted, non-retryable, or timed out)."""

    def __init__(
        self, activity_type: str, activity_id: int, attempt: int, cause: ErrorInfo
    ) -> None:
        super().__init__(
            f"activity {activity_type} #{activity_id} failed after {attempt} attempt(s): "
            f"{cause.type}: {cause.message}"
        )
        self.activity_type = activity_type
        self.activity_id = activity_id
        self.attempt = attempt
        self.cause = cause


class NonDeterminismError(AionError):
    """Workflow code asked for something other than what its history recorded at ``seq``."""

    def __init__(self, workflow_id: str, seq: int, recorded: str, requested: str) -> None:
        super().__init__(
            f"{NON_DETERMINISM_PREFIX}: workflow {workflow_id!r} at seq {seq}: "
            f"history holds {recorded}, code asked for {requested}"
        )
        self.workflow_id = workflow_id
        self.seq = seq
        self.recorded = recorded
        self.requested = requested


class WorkflowUsageError(AionError):
    """Workflow code used the API where it cannot work: a durable call outside a workflow or
    inside a query handler, blocking I/O on the workflow loop, continue-as-new with work
    pending."""


class QueryError(AionError):
    """A query could not be answered (unknown name, handler failed, run not running)."""

    def __init__(self, workflow_id: str, query: str, reason: str) -> None:
        super().__init__(f"query {query!r} on workflow {workflow_id!r} failed: {reason}")
        self.workflow_id = workflow_id
        self.query = query
        self.reason = reason


class StoreError(AionError):
    """The history store could not complete an operation."""


class SequenceConflictError(StoreError):
    """An append expected a head the history no longer has; nothing was written."""

    def __init__(self, workflow_id: str, expected: int, found: int) -> None:
        super().__init__(
            f"sequence conflict on workflow {workflow_id!r}: expected head {expected}, "
            f"found {found} (a second writer exists)"
        )
        self.workflow_id = workflow_id
        self.expected = expected
        self.found = found


class FencedError(StoreError):
    """An append carried a lease epoch older than the current one; nothing was written."""

    def __init__(self, workflow_id: str, epoch: int, current_epoch: int) -> None:
        super().__init__(
            f"workflow {workflow_id!r}: lease epoch {epoch} is fenced off by epoch {current_epoch}"
        )
        self.workflow_id = workflow_id
        self.epoch = epoch
        self.current_epoch = current_epoch


def error_info_from(exc: BaseException) -> ErrorInfo:
    """Describe an exception as a serialisable ErrorInfo (type name, message, traceback)."""
    import traceback  # noqa: PLC0415 - only needed on the failure path

    text = "".join(traceback.format_exception(exc)) if exc.__traceback__ else ""
    cause = getattr(exc, "cause", None)
    if isinstance(exc, ActivityError | WorkflowFailedError) and isinstance(cause, ErrorInfo):
        return ErrorInfo(type=type(exc).__name__, message=str(exc), traceback=text, cause=cause)
    return ErrorInfo(type=type(exc).__name__, message=str(exc), traceback=text)


class EngineUnavailableError(AionError):
    """An engine actor (the registry, the store, a workflow host) could not be reached, or
    failed in a way that is not one of the errors above; ``actor`` names it. ``state`` says
    which: "died" (the actor is gone: find it again by name, or its replacement),
    "unreachable" (it may come back: try again) or "failed" (a call failed)."""

    def __init__(self, actor: str, reason: str, state: str = "failed") -> None:
        super().__init__(f"{actor}: {reason}")
        self.actor = actor
        self.reason = reason
        self.state = state

    @property
    def gone(self) -> bool:
        """Whether the actor died or cannot be reached (rather than failed in a call)."""
        return self.state in ("died", "unreachable")


class HostFullError(AionError):
    """A host refused a placement: it holds as many workflows as its slot allows, or
    workflows of another hosting group. The placer tries another host (never a user's
    error: a start that meets it goes elsewhere)."""

    def __init__(self, host: str, load: int) -> None:
        super().__init__(f"{host} is full ({load} workflow(s) hosted or starting)")
        self.host = host
        self.load = load
