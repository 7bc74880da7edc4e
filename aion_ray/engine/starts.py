"""Starting workflows: the WorkflowStarted draft, the idempotent-start check, and what to do
with a child a parent recorded. Pure decisions: the host reads and appends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.engine.recorder import draft
from aion_ray.errors import InvalidInputError, WorkflowAlreadyStartedError
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.history import current_terminal
from aion_ray.model.payload import Payload, encode
from aion_ray.model.visibility import checked_search_attributes
from aion_ray.runtime import commands as cmd
from aion_ray.runtime.commands import Envelope


@dataclass(frozen=True)
class StartSpec:
    """One ``client.start``: the input is encoded (and checked) by the client."""

    workflow_id: str
    definition: WorkflowDefinition[Any]
    payload: Payload
    search_attributes: dict[str, ev.SearchAttributeValue] | None = None
    new_run: bool = False
    """If the id's last run has ended, start another run under it (else it is refused)."""
    execution_timeout: float | None = None
    """Seconds this run may take, overriding the workflow's ``timeout`` (None: use that)."""

    def __post_init__(self) -> None:
        # Checked where the start is built (the client), before anything is sent or written.
        object.__setattr__(
            self, "execution_timeout", checked_execution_timeout(self.execution_timeout)
        )
        if self.search_attributes is not None:
            checked = checked_search_attributes(self.search_attributes)
            object.__setattr__(self, "search_attributes", checked)


@dataclass(frozen=True)
class StartEvent:
    """A WorkflowStarted to record, as plain data: it travels between processes (the control
    plane, a host) pickled as fields, never as code. A draft: the recorder stamps it."""

    workflow_type: str
    input: Payload
    code_fingerprint: str
    execution_timeout: float | None = None
    search_attributes: dict[str, ev.SearchAttributeValue] | None = None
    parent: ev.ParentRef | None = None

    def __call__(self, env: Envelope) -> ev.Event:
        return draft(
            ev.WorkflowStarted,
            workflow_type=self.workflow_type,
            input=self.input,
            code_fingerprint=self.code_fingerprint,
            execution_timeout=self.execution_timeout,
            search_attributes=self.search_attributes,
            parent=self.parent,
        )(env)


def start_event(
    definition: WorkflowDefinition[Any],
    payload: Payload,
    search_attributes: dict[str, ev.SearchAttributeValue] | None = None,
    execution_timeout: float | None = None,
) -> StartEvent:
    """The WorkflowStarted of a run; ``execution_timeout`` (checked by the caller) overrides
    the workflow's ``timeout`` for this run."""
    return StartEvent(
        workflow_type=definition.name,
        input=payload,
        code_fingerprint=definition.fingerprint,
        execution_timeout=execution_timeout
        if execution_timeout is not None
        else definition.timeout,
        search_attributes=checked_search_attributes(search_attributes)
        if search_attributes
        else None,
    )


def checked_execution_timeout(value: object) -> float | None:
    """``value`` as a run's execution timeout: None, or seconds above 0 and up to a century;
    InvalidInputError naming the bad value otherwise."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not 0 < value <= ev.MAX_DURATION_SECONDS
    ):
        raise InvalidInputError(
            f"execution_timeout must be None or seconds above 0 and up to a century, got {value!r}"
        )
    return float(value)


def encode_input(definition: WorkflowDefinition[Any], arg: Any, max_bytes: int) -> Payload:
    """A start's input checked against the workflow and encoded (raises before any write)."""
    if not definition.takes_input and arg is not None:
        raise InvalidInputError(f"workflow {definition.name} takes no input, got {arg!r}")
    return encode(
        arg,
        codec=definition.codec,
        annotation=definition.input_type,
        max_bytes=max_bytes,
        what=f"input of workflow {definition.name}",
    )


def existing_start(
    history: Sequence[ev.Event], definition: WorkflowDefinition[Any], payload: Payload
) -> None:
    """A start for an id that exists is accepted only if it asks for the same workflow."""
    first = history[0]
    assert isinstance(first, ev.WorkflowStarted)
    if first.workflow_type != definition.name:
        raise WorkflowAlreadyStartedError(
            first.workflow_id,
            f"it is a {first.workflow_type!r} workflow, not {definition.name!r}",
        )
    if first.input != payload:
        raise WorkflowAlreadyStartedError(first.workflow_id, "it was started with different input")


@dataclass(frozen=True)
class ChildStart:
    """What to do with a child a parent recorded: launch it, or it exists already.

    ``launch`` with its WorkflowStarted draft; or the child is the parent's own (started
    earlier, e.g. before a crash) and ``terminal`` is how it ended (None: still running); or
    ``refused`` says why it cannot start (its id is taken, its type is unknown).
    """

    launch: StartEvent | None = None
    definition: WorkflowDefinition[Any] | None = None
    terminal: ev.Event | None = None
    refused: ErrorInfo | None = None


def child_start(
    parent_workflow_id: str,
    parent_run_id: str,
    command: cmd.StartChild,
    history: Sequence[ev.Event],
    definition: WorkflowDefinition[Any] | None,
) -> ChildStart:
    """Decide a recorded child start against the child id's stored ``history``."""
    if history:
        first = history[0]
        if isinstance(first, ev.WorkflowStarted) and first.run_id == command.child_run_id:
            terminal = current_terminal(history)
            followed = terminal is not None and not isinstance(terminal, ev.WorkflowContinuedAsNew)
            return ChildStart(terminal=terminal if followed else None)
        message = f"workflow id {command.child_workflow_id!r} is already taken"
        return ChildStart(refused=ErrorInfo(type="WorkflowAlreadyStartedError", message=message))
    if definition is None:
        message = f"unknown workflow type {command.workflow_type!r}"
        return ChildStart(refused=ErrorInfo(type="InvalidInputError", message=message))
    parent = ev.ParentRef(
        workflow_id=parent_workflow_id, run_id=parent_run_id, child_id=command.child_id
    )
    started = StartEvent(
        workflow_type=definition.name,
        input=command.input,
        code_fingerprint=definition.fingerprint,
        execution_timeout=definition.timeout,
        parent=parent,
    )
    return ChildStart(launch=started, definition=definition)
