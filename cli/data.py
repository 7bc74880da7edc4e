"""``sql`` (one read-only query over the public schema) and ``export`` (histories to Parquet
or JSON), on the running engine or on ``--history-file``."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from aion_ray.cli.connection import LiveSource, Source, Target, open_source
from aion_ray.cli.errors import CliError
from aion_ray.cli.output import Column, Output, output_options
from aion_ray.cli.workflows import select

FILE_COLUMNS = (Column("file", "file", whole=True), Column("rows", "rows"))


@click.command()
@click.argument("query_text", metavar="QUERY")
@output_options
@click.pass_obj
def sql(target: Target, query_text: str, output_format: str, time_format: str) -> None:
    """Run one read-only SQL QUERY over events, workflows, lifecycle and timers."""
    table = open_source(target).sql(query_text)
    columns = [Column(name, name) for name in table.column_names]
    Output(output_format, time_format).records(table.to_pylist(), columns)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["parquet", "json"]),
    default="parquet",
    show_default=True,
    help="parquet: the store's tables (aion.open_history reads them); json: a file per "
    "workflow in the format replay --json and aion_ray.testing.load_history read.",
)
@click.option("--id", "workflow_ids", multiple=True, help="json: only this workflow (repeatable).")
@click.option("--where", help="json: only the workflows this SQL predicate selects.")
@click.option(
    "--incremental",
    is_flag=True,
    help="parquet, running engine: only what the store has not exported before (its own "
    "incremental export, written by the store's process).",
)
@output_options
@click.pass_obj
def export(
    target: Target,
    directory: Path,
    file_format: str,
    workflow_ids: tuple[str, ...],
    where: str | None,
    incremental: bool,
    output_format: str,
    time_format: str,
) -> None:
    """Export histories to DIRECTORY: a complete Parquet copy of the store's tables by
    default, or one JSON history per workflow."""
    source = open_source(target)
    if file_format == "parquet" and (workflow_ids or where is not None):
        raise CliError("--id and --where choose workflows for --format json only")
    if incremental and (file_format != "parquet" or not isinstance(source, LiveSource)):
        raise CliError("--incremental is for --format parquet on a running engine")
    directory.mkdir(parents=True, exist_ok=True)
    if incremental:
        rows = _incremental(source, directory) if isinstance(source, LiveSource) else []
    elif file_format == "parquet":
        rows = export_parquet(source, directory)
    else:
        rows = export_json(source, directory, workflow_ids, where)
    Output(output_format, time_format).records(rows, FILE_COLUMNS)


def export_parquet(source: Source, directory: Path) -> list[dict[str, Any]]:
    """Every table, whole: events in one file, then workflows, lifecycle and timers."""
    # Arrow and the storage layer load only for an export, not for every command.
    from aion_ray.storage.export import write_events, write_snapshots  # noqa: PLC0415
    from aion_ray.storage.schema import EVENTS_ARROW, SNAPSHOT_SCHEMAS  # noqa: PLC0415

    names = ", ".join(EVENTS_ARROW.names)
    events = source.sql(f"SELECT {names} FROM events ORDER BY commit_id, workflow_id, seq")
    name, count = write_events(events.to_batches(), directory)
    rows: list[dict[str, Any]] = [] if name is None else [{"file": name, "rows": count}]
    tables = {}
    for table, schema in SNAPSHOT_SCHEMAS.items():
        tables[table] = source.sql(f"SELECT {', '.join(schema.names)} FROM {table}")
    for file in write_snapshots(tables, directory):
        rows.append({"file": file, "rows": tables[file.removesuffix(".parquet")].num_rows})
    return rows


def export_json(
    source: Source, directory: Path, workflow_ids: tuple[str, ...], where: str | None
) -> list[dict[str, Any]]:
    """A ``<workflow id>.json`` per workflow (the id quoted to a safe file name)."""
    from aion_ray.testing.replay import dump_history  # noqa: PLC0415 (loads the storage layer)

    chosen = list(workflow_ids) or [info.workflow_id for info in select(source, where=where)]
    rows: list[dict[str, Any]] = []
    for workflow_id in chosen:
        history = source.history(workflow_id)
        name = quote(workflow_id, safe="") + ".json"
        dump_history(history, directory / name)
        rows.append({"file": name, "rows": len(history)})
    return rows


def _incremental(source: LiveSource, directory: Path) -> list[dict[str, Any]]:
    result = source.client.store.export_parquet(str(directory.resolve())).get()
    return [{"file": name, "rows": None} for name in result.files]
