"""``health``: what ``client.health()`` reports (the registry, the store, the pool, resident
and suspended counts); exit 4 when a system actor does not answer, after printing it all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from aion_ray.cli.connection import Target, live_client
from aion_ray.cli.errors import CliError, ExitCode
from aion_ray.cli.output import Column, Output, output_options


@click.command()
@output_options
@click.pass_obj
def health(target: Target, output_format: str, time_format: str) -> None:
    """Report the engine's health: its actors, store, pool and workflow counts."""
    report = live_client(target).health()
    fields = report.to_dict()
    out = Output(output_format, time_format)
    if output_format in ("json", "jsonl"):
        out.record(fields, ())
    else:
        flat = flatten(fields)
        out.record(flat, [Column(key, key) for key in flat])
    if not report.ok:
        unreachable = [name for name in ("registry", "store") if not fields[name]["reachable"]]
        message = f"the engine's {' and '.join(unreachable)} did not answer"
        raise CliError(message, ExitCode.UNREACHABLE)


def flatten(fields: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested fields as one level, their keys joined by dots (``store.commit_ms``)."""
    flat: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
