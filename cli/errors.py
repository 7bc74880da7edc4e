"""Exit codes and the one-line error the command line prints for each failure.

Every failure ends the process with one line on stderr (``aion: <message>``) and the code of
its kind, never a traceback, so scripts can branch on the code and people read the line.
"""

from __future__ import annotations

from enum import IntEnum

from aion_ray.errors import (
    AionError,
    EngineUnavailableError,
    InvalidInputError,
    NonDeterminismError,
    ScheduleNotFoundError,
    WorkflowNotFoundError,
    WorkflowOutcomeError,
)


class ExitCode(IntEnum):
    """What the process's exit status means (the README's "Operating" lists them)."""

    OK = 0
    ERROR = 1
    """Anything else: e.g. a signal to an ended workflow, a query its handler refused."""
    USAGE = 2
    """Bad usage or input: an unknown option or status, bad JSON, refused SQL, a bad id."""
    NOT_FOUND = 3
    """No workflow (or schedule) with that id."""
    UNREACHABLE = 4
    """No Ray cluster at the address, no engine in the namespace, or an engine actor died."""
    NOT_COMPLETED = 5
    """``result``: the workflow ended without completing (failed, cancelled, timed out)."""
    STILL_RUNNING = 6
    """``result``: the workflow has not ended (without ``--wait``, or past ``--timeout``)."""
    DIVERGED = 7
    """``replay``: the current code diverges from a recorded history."""


class CliError(Exception):
    """A failure the command line reports as one line with its exit code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.code = code


_CODES: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (CliError, ExitCode.USAGE),
    (InvalidInputError, ExitCode.USAGE),
    (WorkflowNotFoundError, ExitCode.NOT_FOUND),
    (ScheduleNotFoundError, ExitCode.NOT_FOUND),
    (EngineUnavailableError, ExitCode.UNREACHABLE),
    (WorkflowOutcomeError, ExitCode.NOT_COMPLETED),
    (NonDeterminismError, ExitCode.DIVERGED),
    (ConnectionError, ExitCode.UNREACHABLE),
)


def exit_code(error: BaseException) -> ExitCode:
    """The exit code of ``error``: its own for a CliError, else by its type."""
    if isinstance(error, CliError):
        return error.code
    for kind, code in _CODES:
        if isinstance(error, kind):
            return code
    return ExitCode.ERROR


def one_line(error: BaseException) -> str:
    """The error as one line: its message with line breaks folded, and its type when the
    message does not say what kind of failure it was."""
    text = " ".join(str(error).split())
    if isinstance(error, AionError | CliError):
        return text or type(error).__name__
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
