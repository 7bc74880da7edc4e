"""``replay``: check a workflow's current code against recorded histories (stored ones, on
the engine or ``--history-file``, or JSON exports) and report the first divergence of each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.cli.connection import Target, open_source
from aion_ray.cli.errors import CliError, ExitCode
from aion_ray.cli.output import Column, Output, output_options
from aion_ray.cli.workflows import load_workflow, select
from aion_ray.errors import NonDeterminismError
from aion_ray.model import events as ev

REPLAY_COLUMNS = (
    Column("workflow_id", "workflow id", whole=True),
    Column("runs", "runs"),
    Column("events", "events"),
    Column("commands", "commands"),
    Column("outcome", "outcome"),
)


@click.command("replay")
@click.argument("workflow")
@click.argument("workflow_ids", nargs=-1, metavar="[ID...]")
@click.option(
    "--json",
    "json_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A history exported as JSON (export --format json, show -o json); repeatable.",
)
@output_options
@click.pass_obj
def replay_command(
    target: Target,
    workflow: str,
    workflow_ids: tuple[str, ...],
    json_files: tuple[Path, ...],
    output_format: str,
    time_format: str,
) -> None:
    """Replay histories with WORKFLOW's current code (MODULE:NAME): those of the ids given,
    of the --json files, or with neither every stored workflow of its type. Exits 7 if any
    diverges, after printing each outcome."""
    definition = load_workflow(workflow)
    histories = _histories(target, definition, workflow_ids, json_files)
    rows = [_check(definition, label, history) for label, history in histories]
    Output(output_format, time_format).records(rows, REPLAY_COLUMNS)
    diverged = [row for row in rows if row["outcome"] != "ok"]
    if diverged:
        first = diverged[0]
        message = (
            f"{len(diverged)} of {len(rows)} histories diverge from the current code of "
            f"{definition.name}; first: {first['workflow_id']}: {first['outcome']}"
        )
        raise CliError(message, ExitCode.DIVERGED)


def _histories(
    target: Target,
    definition: WorkflowDefinition[Any],
    workflow_ids: tuple[str, ...],
    json_files: tuple[Path, ...],
) -> list[tuple[str, list[ev.Event]]]:
    """(label, history) pairs: from the JSON files, else from the engine or the file."""
    from aion_ray.testing.replay import load_history  # noqa: PLC0415 (loads the storage layer)

    found: list[tuple[str, list[ev.Event]]] = []
    for path in json_files:
        try:
            events = load_history(path)
        except ValueError as exc:  # pydantic's ValidationError and bad JSON both are
            reason = " ".join(str(exc).split())[:300]
            raise CliError(f"{path} is not a history exported as JSON: {reason}") from None
        found.append((events[0].workflow_id if events else str(path), events))
    if json_files and not workflow_ids:
        return found
    source = open_source(target)
    ids = list(workflow_ids) or [i.workflow_id for i in select(source, None, definition.name)]
    return found + [(wid, list(source.history(wid))) for wid in ids]


def _check(
    definition: WorkflowDefinition[Any], label: str, history: list[ev.Event]
) -> dict[str, Any]:
    first = history[0] if history else None
    if isinstance(first, ev.WorkflowStarted) and first.workflow_type != definition.name:
        raise CliError(f"{label} is a {first.workflow_type} workflow, not {definition.name}")
    from aion_ray.testing.replay import replay  # noqa: PLC0415 (loads the storage layer)

    row: dict[str, Any] = {"workflow_id": label, "runs": None, "events": len(history)}
    try:
        checked = replay(history, definition)
    except NonDeterminismError as exc:
        return {**row, "commands": None, "outcome": " ".join(str(exc).split())}
    return {**row, "runs": checked.runs, "commands": checked.commands, "outcome": "ok"}
