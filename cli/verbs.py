"""Verbs that change workflows, by id or by ``--where`` (``--yes`` to act on many): the
command table. Each verb is one row: its name, help, the handle call that does it and what
its two outcomes are called; a command is built per row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from aion_ray.cli.connection import LiveSource, Target, live_client
from aion_ray.cli.errors import CliError
from aion_ray.cli.output import Column, Output, output_options
from aion_ray.cli.workflows import select
from aion_ray.errors import WorkflowStateError, WorkflowTerminalError

if TYPE_CHECKING:
    from aion_ray.actors.handle import WorkflowHandle


@dataclass(frozen=True)
class Verb:
    """One command that acts on workflows: ``act(handle, reason)`` is True when it took
    effect and False when the workflow was past it (``done`` and ``skipped`` name those)."""

    name: str
    help: str
    act: Callable[[WorkflowHandle[Any], str], bool]
    default_reason: str | None  # None: the verb takes no reason
    done: str
    skipped: str


VERBS = (
    Verb(
        name="cancel",
        help="Request cancellation: the workflow sees CancelledError and may clean up.",
        act=lambda handle, reason: bool(handle.cancel(reason)),
        default_reason="cancelled from the aion command line",
        done="cancel requested",
        skipped="had ended",
    ),
    Verb(
        name="terminate",
        help="End the run at once, with no cleanup (its running activities are cancelled).",
        act=lambda handle, reason: _took(lambda: handle.terminate(reason)),
        default_reason="terminated from the aion command line",
        done="terminated",
        skipped="had ended",
    ),
    Verb(
        name="pause",
        help="Hold the workflow: no new activities or children; signals are still recorded.",
        act=lambda handle, reason: _took(lambda: handle.pause(reason)),
        default_reason="paused from the aion command line",
        done="paused",
        skipped="was not running",
    ),
    Verb(
        name="resume",
        help="End a pause: what it held back runs now.",
        act=lambda handle, reason: _took(handle.resume),
        default_reason=None,
        done="resumed",
        skipped="was not paused",
    ),
    Verb(
        name="reopen",
        help="Continue a failed, cancelled, timed-out or terminated run (the same run): what "
        "completed replays, what failed runs again.",
        act=lambda handle, reason: _took(handle.reopen),
        default_reason=None,
        done="reopened",
        skipped="had not failed, been cancelled, timed out or been terminated",
    ),
)


def _took(call: Callable[[], object]) -> bool:
    """Whether the verb took effect: False if the run's state refused it (the engine names
    the state, and writes nothing)."""
    try:
        call()
    except (WorkflowStateError, WorkflowTerminalError):
        return False
    return True


OUTCOME_COLUMNS = (Column("workflow_id", "workflow id", True), Column("outcome", "outcome"))


def verb_command(verb: Verb) -> click.Command:
    """The click command of ``verb``: ``aion <verb> ID... [--reason]`` or
    ``aion <verb> --where PREDICATE --yes``."""

    @click.argument("workflow_ids", nargs=-1, metavar="[ID...]")
    @click.option("--where", help="A SQL predicate over workflows selecting those to act on.")
    @click.option("--yes", is_flag=True, help="Confirm acting on every workflow --where selects.")
    @output_options
    @click.pass_obj
    def run(
        target: Target,
        workflow_ids: tuple[str, ...],
        where: str | None,
        yes: bool,
        output_format: str,
        time_format: str,
        reason: str = "",
    ) -> None:
        client = live_client(target)
        chosen = _chosen(verb, LiveSource(client), workflow_ids, where, yes)
        rows = []
        for workflow_id in chosen:
            took = verb.act(client.get(workflow_id), reason)
            rows.append(
                {"workflow_id": workflow_id, "outcome": verb.done if took else verb.skipped}
            )
        Output(output_format, time_format).records(rows, OUTCOME_COLUMNS)

    if verb.default_reason is not None:
        run = click.option(
            "--reason", default=verb.default_reason, help="Recorded with the request."
        )(run)
    return click.command(verb.name, help=verb.help)(run)


def _chosen(
    verb: Verb, source: LiveSource, workflow_ids: tuple[str, ...], where: str | None, yes: bool
) -> list[str]:
    """The ids to act on: those named, or those ``where`` selects once ``yes`` confirms."""
    if bool(workflow_ids) == (where is not None):
        raise CliError(f"{verb.name} takes workflow ids or --where, one of the two")
    if where is None:
        return list(workflow_ids)
    chosen = [info.workflow_id for info in select(source, where=where)]
    if not yes:
        raise CliError(
            f"--where selects {len(chosen)} workflows; add --yes to {verb.name} all of them"
        )
    return chosen
