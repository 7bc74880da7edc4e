"""``aion schedule create|list|describe|pause|unpause|trigger|backfill|delete``: the engine's
schedules from a shell (README, "Schedules"). Durations are seconds, times ISO 8601 with a
zone offset; every command takes ``-o table|json|jsonl|csv``. A verb prints the schedule and
what it did; bad input fails with one line and exit code 2, an unknown schedule with 3.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from aion_ray.cli.connection import Target, live_client
from aion_ray.cli.errors import CliError
from aion_ray.cli.output import Column, Output, output_options
from aion_ray.cli.workflows import load_workflow, workflow_input
from aion_ray.model.schedule import OVERLAP_POLICIES, schedule_spec
from aion_ray.model.schedule_state import ScheduleDescription

if TYPE_CHECKING:
    from aion_ray.actors.schedule_handle import ScheduleHandle

LIST_COLUMNS = (
    Column("schedule_id", "schedule id", whole=True),
    Column("workflow_type", "type", whole=True),
    Column("when", "when", whole=True),
    Column("overlap", "overlap"),
    Column("paused", "paused"),
    Column("next_fire_at", "next fire"),
    Column("missed", "missed"),
    Column("skipped", "skipped"),
)
DESCRIBE_COLUMNS = (
    *LIST_COLUMNS[:5],
    Column("note", "note"),
    Column("next_fire_times", "next fire times"),
    Column("recent_runs", "recent runs"),
    Column("buffered", "buffered"),
    *LIST_COLUMNS[6:],
    Column("spec", "spec"),
)
OUTCOME_COLUMNS = (Column("schedule_id", "schedule id", True), Column("outcome", "outcome"))


def row(description: ScheduleDescription) -> dict[str, Any]:
    """A schedule as one record (``list`` shows some of its fields, ``describe`` all)."""
    spec = description.spec
    return {
        "schedule_id": description.schedule_id,
        "workflow_type": description.workflow_type,
        "when": f"cron {spec.cron} ({spec.timezone})" if spec.cron else f"every {spec.every}",
        "overlap": spec.overlap,
        "paused": description.paused,
        "note": description.note,
        "next_fire_at": description.next_fire_times[0] if description.next_fire_times else None,
        "next_fire_times": list(description.next_fire_times),
        "recent_runs": [
            {"workflow_id": r.workflow_id, "status": r.status, "origin": r.origin}
            for r in description.recent_runs
        ],
        "buffered": list(description.buffered),
        "missed": description.missed,
        "skipped": description.skipped,
        "spec": spec.model_dump(mode="json"),
    }


@click.group("schedule")
def schedule_group() -> None:
    """Create and operate schedules: a workflow run at each tick of an interval or a cron."""


@schedule_group.command("create")
@click.argument("schedule_id")
@click.argument("workflow")
@click.argument("input_json", required=False, metavar="[JSON]")
@click.option("--every", type=float, help="Seconds between ticks (one of --every and --cron).")
@click.option("--cron", help='A five-field cron expression, e.g. "0 2 * * *".')
@click.option("--timezone", default="UTC", show_default=True, help="The cron's time zone.")
@click.option("--overlap", type=click.Choice(OVERLAP_POLICIES), default="skip", show_default=True)
@click.option("--catchup-window", type=float, default=60.0, show_default=True, help="Seconds.")
@click.option("--jitter", type=float, help="Delay each tick by up to this many seconds.")
@click.option("--start-at", help="First possible tick (ISO 8601 with a zone offset).")
@click.option("--end-at", help="Last possible tick (ISO 8601 with a zone offset).")
@click.option("--paused", is_flag=True, help="Create it paused.")
@output_options
@click.pass_obj
def create(
    target: Target, /, schedule_id: str, workflow: str, input_json: str | None, **options: Any
) -> None:
    """Create SCHEDULE_ID running WORKFLOW (MODULE:NAME) with its input as JSON (the same
    schedule again is no change; another spec under its id is refused)."""
    output = Output(options.pop("output_format"), options.pop("time_format"))
    definition = load_workflow(workflow)
    arg = workflow_input(definition, input_json)
    spec = _spec(**options)
    schedule_spec(**spec)  # checked before joining the cluster: bad input costs no connection
    handle = live_client(target).schedule(schedule_id, definition, arg, **spec)
    output.record(row(handle.describe()), DESCRIBE_COLUMNS)


@schedule_group.command("list")
@output_options
@click.pass_obj
def list_command(target: Target, output_format: str, time_format: str) -> None:
    """List the schedules by id."""
    found = live_client(target).list_schedules()
    columns = LIST_COLUMNS if output_format == "table" else DESCRIBE_COLUMNS
    Output(output_format, time_format).records([row(d) for d in found], columns)


@schedule_group.command("describe")
@click.argument("schedule_id")
@output_options
@click.pass_obj
def describe(target: Target, schedule_id: str, output_format: str, time_format: str) -> None:
    """Show one schedule: its spec, pause, next fire times, recent runs, missed and skipped."""
    described = live_client(target).get_schedule(schedule_id).describe()
    Output(output_format, time_format).record(row(described), DESCRIBE_COLUMNS)


def _verb(name: str, help: str, act: Callable[[ScheduleHandle], None], done: str) -> None:
    @click.argument("schedule_id")
    @output_options
    @click.pass_obj
    def run(target: Target, schedule_id: str, output_format: str, time_format: str) -> None:
        act(live_client(target).get_schedule(schedule_id))
        outcome = {"schedule_id": schedule_id, "outcome": done}
        Output(output_format, time_format).record(outcome, OUTCOME_COLUMNS)

    schedule_group.command(name, help=help)(run)


_verb("unpause", "Fire again from now on.", lambda h: h.unpause(), "unpaused")
_verb(
    "trigger",
    "Run it once now, under its overlap policy, even while paused.",
    lambda h: h.trigger(),
    "triggered",
)
_verb("delete", "Remove the schedule (its runs stay).", lambda h: h.delete(), "deleted")


@schedule_group.command("pause")
@click.argument("schedule_id")
@click.option("--note", default="paused from the aion command line", show_default=True)
@output_options
@click.pass_obj
def pause(
    target: Target, schedule_id: str, note: str, output_format: str, time_format: str
) -> None:
    """Stop firing (ticks while paused are neither run nor counted missed)."""
    live_client(target).get_schedule(schedule_id).pause(note)
    outcome = {"schedule_id": schedule_id, "outcome": "paused"}
    Output(output_format, time_format).record(outcome, OUTCOME_COLUMNS)


@schedule_group.command("backfill")
@click.argument("schedule_id")
@click.argument("start")
@click.argument("end")
@output_options
@click.pass_obj
def backfill(
    target: Target, schedule_id: str, start: str, end: str, output_format: str, time_format: str
) -> None:
    """Run the ticks in [START, END] (ISO 8601 with a zone offset) under the overlap policy;
    ticks run already are not run again."""
    began, ended = _moment("START", start), _moment("END", end)
    live_client(target).get_schedule(schedule_id).backfill(began, ended)
    outcome = {"schedule_id": schedule_id, "outcome": f"backfilled {start} .. {end}"}
    Output(output_format, time_format).record(outcome, OUTCOME_COLUMNS)


def _spec(
    every: float | None,
    cron: str | None,
    timezone: str,
    overlap: str,
    catchup_window: float,
    jitter: float | None,
    start_at: str | None,
    end_at: str | None,
    paused: bool,
) -> dict[str, Any]:
    """``client.schedule``'s options from the command's (seconds and ISO times)."""
    return {
        "every": timedelta(seconds=every) if every is not None else None,
        "cron": cron,
        "timezone": timezone,
        "overlap": overlap,
        "catchup_window": timedelta(seconds=catchup_window),
        "jitter": timedelta(seconds=jitter) if jitter is not None else None,
        "start_at": _moment("--start-at", start_at) if start_at else None,
        "end_at": _moment("--end-at", end_at) if end_at else None,
        "paused": paused,
    }


def _moment(name: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"{name} is not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None:
        raise CliError(f"{name} needs a zone offset (e.g. {text}+00:00): {text!r}")
    return moment
