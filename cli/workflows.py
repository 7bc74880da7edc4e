"""Commands over workflows: ``list``, ``describe``, ``start``, ``signal``, ``query`` and
``result``; and ``select``, the ``--status``/``--type``/``--where`` selection that ``list``
and the bulk verbs share."""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

import click
from pydantic import TypeAdapter, ValidationError

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.cli.connection import Source, Target, check_status, live_client, open_source
from aion_ray.cli.errors import CliError, ExitCode
from aion_ray.cli.output import Column, Output, output_options
from aion_ray.errors import InvalidInputError
from aion_ray.model.visibility import WorkflowInfo

LIST_COLUMNS = (
    Column("workflow_id", "workflow id", whole=True),
    Column("workflow_type", "type", whole=True),
    Column("status", "status", whole=True),
    Column("residency", "residency"),
    Column("started_at", "started"),
    Column("closed_at", "closed"),
)
INFO_COLUMNS = (
    *LIST_COLUMNS[:3],
    Column("run_id", "run", whole=True),
    *LIST_COLUMNS[3:],
    Column("parent_workflow_id", "parent", whole=True),
    Column("search_attributes", "search attributes"),
)
"""Every field of WorkflowInfo, the record ``describe`` and JSON ``list`` give."""


def select(
    source: Source,
    status: str | None = None,
    workflow_type: str | None = None,
    where: str | None = None,
    limit: int | None = None,
) -> list[WorkflowInfo]:
    """The workflows matching every condition given, oldest first; ``where`` is a SQL
    predicate over the ``workflows`` table (run read-only, like ``aion sql``)."""
    infos = source.infos(check_status(status), workflow_type)
    if where is not None:
        if not where.strip():
            raise InvalidInputError("--where needs a SQL predicate over workflows")
        found = source.sql(f"SELECT workflow_id FROM workflows WHERE ({where})")
        wanted = set(found.column("workflow_id").to_pylist())
        infos = [info for info in infos if info.workflow_id in wanted]
    return infos if limit is None else infos[:limit]


def parse_json(text: str | None, what: str) -> Any:
    """``text`` as JSON (None stays None); CliError naming ``what`` if it is not JSON."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{what} is not valid JSON ({exc}): {text!r}") from None


def load_workflow(reference: str) -> WorkflowDefinition[Any]:
    """The workflow at ``MODULE:NAME`` (imported from the current directory too, as a
    script would find it); CliError if it is missing or not an ``@aion.workflow``."""
    module_name, _, name = reference.partition(":")
    if not module_name or not name:
        raise CliError(f"expected MODULE:WORKFLOW, got {reference!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found: Any = importlib.import_module(module_name)
        for part in name.split("."):
            found = getattr(found, part)
    except ImportError as exc:
        raise CliError(f"cannot import {module_name!r}: {exc}") from None
    except AttributeError:
        raise CliError(f"{module_name!r} has no {name!r}") from None
    if not isinstance(found, WorkflowDefinition):
        raise CliError(f"{reference} is not an @aion.workflow")
    return found


def workflow_input(definition: WorkflowDefinition[Any], text: str | None) -> Any:
    """The start's input: JSON validated into the workflow's declared input type."""
    value = parse_json(text, "the input")
    if value is None or not definition.takes_input:
        return value
    try:
        return TypeAdapter(definition.input_type).validate_python(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors()
        )
        raise CliError(f"input of workflow {definition.name}: {problems}") from None


def record(info: WorkflowInfo) -> dict[str, Any]:
    return info.model_dump()


@click.command("list")
@click.option("--status", help="Only workflows with this status (e.g. running, completed).")
@click.option("--type", "workflow_type", help="Only workflows of this type.")
@click.option("--where", help='A SQL predicate over workflows, e.g. "started_at > now() - 1".')
@click.option("--limit", type=click.IntRange(min=0), help="At most this many workflows.")
@output_options
@click.pass_obj
def list_command(
    target: Target,
    status: str | None,
    workflow_type: str | None,
    where: str | None,
    limit: int | None,
    output_format: str,
    time_format: str,
) -> None:
    """List workflows, oldest first."""
    check_status(status)  # before joining the cluster: bad input costs no connection
    infos = select(open_source(target), status, workflow_type, where, limit)
    columns = LIST_COLUMNS if output_format == "table" else INFO_COLUMNS
    Output(output_format, time_format).records([record(i) for i in infos], columns)


@click.command()
@click.argument("workflow_id")
@output_options
@click.pass_obj
def describe(target: Target, workflow_id: str, output_format: str, time_format: str) -> None:
    """Show one workflow: its type, status, run, residency and times."""
    info = open_source(target).info(workflow_id)
    Output(output_format, time_format).record(record(info), INFO_COLUMNS)


@click.command()
@click.argument("workflow")
@click.argument("input_json", required=False, metavar="[JSON]")
@click.option("--id", "workflow_id", help="The workflow's id (a new one if not given).")
@click.option(
    "--execution-timeout",
    type=float,
    help="Seconds this run may take (overrides the workflow's timeout); then it times out.",
)
@output_options
@click.pass_obj
def start(
    target: Target,
    workflow: str,
    input_json: str | None,
    workflow_id: str | None,
    execution_timeout: float | None,
    output_format: str,
    time_format: str,
) -> None:
    """Start WORKFLOW (MODULE:NAME) with its input as JSON; durable when this returns."""
    definition = load_workflow(workflow)
    arg = workflow_input(definition, input_json)
    client = live_client(target)
    handle = client.start(definition, arg, id=workflow_id, execution_timeout=execution_timeout)
    row = {"workflow_id": handle.workflow_id, "run_id": handle.run_id}
    row["workflow_type"] = definition.name
    columns = (Column("workflow_id", "workflow id", True), Column("run_id", "run", True))
    Output(output_format, time_format).record(row, (*columns, Column("workflow_type", "type")))


@click.command()
@click.argument("workflow_id")
@click.argument("name")
@click.argument("payload_json", required=False, metavar="[JSON]")
@click.pass_obj
def signal(target: Target, workflow_id: str, name: str, payload_json: str | None) -> None:
    """Send signal NAME with its payload as JSON; durable in the history when this returns."""
    payload = parse_json(payload_json, "the signal's payload")
    live_client(target).get(workflow_id).signal(name, payload)


@click.command()
@click.argument("workflow_id")
@click.argument("name")
@click.argument("args_json", nargs=-1, metavar="[JSON...]")
@output_options
@click.pass_obj
def query(
    target: Target,
    workflow_id: str,
    name: str,
    args_json: tuple[str, ...],
    output_format: str,
    time_format: str,
) -> None:
    """Ask the workflow's query handler NAME, with its arguments as JSON."""
    args = [parse_json(text, f"query argument {i + 1}") for i, text in enumerate(args_json)]
    answer = live_client(target).get(workflow_id).query(name, *args)
    Output(output_format, time_format).value(answer)


@click.command()
@click.argument("workflow_id")
@click.option("--wait", is_flag=True, help="Wait for the workflow to end.")
@click.option("--timeout", type=click.FloatRange(min=0), help="With --wait: at most seconds.")
@output_options
@click.pass_obj
def result(
    target: Target,
    workflow_id: str,
    wait: bool,
    timeout: float | None,
    output_format: str,
    time_format: str,
) -> None:
    """Print the workflow's result as JSON; exit 5 if it failed, was cancelled or timed out,
    6 if it has not ended."""
    handle = live_client(target).get(workflow_id)
    try:
        value = handle.result(timeout=timeout if wait else 0)
    except TimeoutError:
        hint = f"within {timeout}s" if wait else "yet (pass --wait to wait for it)"
        message = f"workflow {workflow_id!r} has not ended {hint}"
        raise CliError(message, ExitCode.STILL_RUNNING) from None
    Output(output_format, time_format).value(value)
