"""Output formats: ``-o table`` (rich, the default), ``json``, ``jsonl`` and ``csv``, and
``--time-format iso|relative`` for the times a table shows.

JSON output is JSON alone on stdout (many records: one array; one record: one object), with
times in ISO 8601 and durations in seconds whatever ``--time-format`` says: it is for
programs. A table never cuts an id or an event name: those columns neither wrap nor end in an
ellipsis, and a table written to a pipe or a file is as wide as its content needs.
"""

from __future__ import annotations

import base64
import csv
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, TextIO

import click
from pydantic import BaseModel
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from aion_ray.display.html import span

FORMATS = ("table", "json", "jsonl", "csv")
TIME_FORMATS = ("iso", "relative")
PIPE_WIDTH = 100_000
"""The console width when stdout is not a terminal: wide enough that nothing folds."""

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Column:
    """A field of the records and its table header; ``whole`` columns (ids, event names,
    statuses) are never wrapped."""

    key: str
    header: str
    whole: bool = False


@dataclass(frozen=True)
class Output:
    """Where and how a command prints what it found."""

    format: str = "table"
    time_format: str = "iso"
    stream: TextIO = field(default_factory=lambda: sys.stdout)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def records(self, rows: Sequence[Row], columns: Sequence[Column], header: bool = True) -> None:
        """Many records: a table, a JSON array, JSON lines or CSV rows (``header`` False
        continues an earlier table or CSV, as ``show --follow`` does)."""
        if self.format == "json":
            self._write(json.dumps([plain(dict(row)) for row in rows]))
        elif self.format == "jsonl":
            for row in rows:
                self._write(json.dumps(plain(dict(row))))
        elif self.format == "csv":
            self._csv(rows, columns, header)
        else:
            self._table(rows, columns, header)

    def record(self, row: Row, columns: Sequence[Column]) -> None:
        """One record: a field/value table, one JSON object, one JSON line or one CSV row."""
        if self.format in ("json", "jsonl"):
            self._write(json.dumps(plain(dict(row))))
        elif self.format == "csv":
            self._csv([row], columns, True)
        else:
            facts = [{"field": c.header, "value": row.get(c.key)} for c in columns]
            self._table(facts, (Column("field", "field", True), Column("value", "value")), False)

    def value(self, value: Any) -> None:
        """A bare value (a result, a query's answer): JSON, indented for a table."""
        if self.format == "table":
            self._write(json.dumps(plain(value), indent=2))
        elif self.format == "csv":
            self._csv([{"value": json.dumps(plain(value))}], (Column("value", "value"),), True)
        else:
            self._write(json.dumps(plain(value)))

    def cell(self, value: Any) -> str:
        """A value as a table shows it."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            return self.moment(value)
        if isinstance(value, timedelta):
            return "+" + span(value)
        if isinstance(value, Enum):
            return str(value.value)
        if isinstance(value, dict | list | tuple):
            return json.dumps(plain(value))
        return str(value)

    def moment(self, value: datetime) -> str:
        if self.time_format == "iso":
            return value.isoformat(timespec="milliseconds")
        ago = self.now - value
        return f"{span(ago)} ago" if ago >= timedelta(0) else f"in {span(-ago)}"

    def _table(self, rows: Sequence[Row], columns: Sequence[Column], header: bool) -> None:
        table = Table(box=box.SIMPLE_HEAD, show_header=header, show_edge=False, highlight=False)
        for column in columns:
            table.add_column(column.header, no_wrap=column.whole, overflow="fold")
        for row in rows:  # Text, not markup: user data in brackets is shown as it is
            table.add_row(*(Text(self.cell(row.get(c.key))) for c in columns))
        width = None if self.stream.isatty() else PIPE_WIDTH
        Console(file=self.stream, width=width, highlight=False).print(table)

    def _csv(self, rows: Sequence[Row], columns: Sequence[Column], header: bool) -> None:
        writer = csv.writer(self.stream, lineterminator="\n")
        if header:
            writer.writerow([c.key for c in columns])
        for row in rows:
            writer.writerow([_csv_cell(plain(row.get(c.key))) for c in columns])

    def _write(self, text: str) -> None:
        self.stream.write(text + "\n")


def plain(value: Any) -> Any:
    """``value`` as JSON data: times in ISO 8601, durations in seconds, enums by value,
    models by their JSON fields, bytes in base64; anything else unknown as its text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``-o/--output`` and ``--time-format``, given after the command's name."""
    command = click.option(
        "--time-format",
        type=click.Choice(TIME_FORMATS),
        default="iso",
        show_default=True,
        help="How tables show times (JSON, JSONL and CSV always use ISO 8601).",
    )(command)
    return click.option(
        "-o",
        "--output",
        "output_format",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format.",
    )(command)
