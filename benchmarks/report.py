"""Benchmark results: percentiles, the printed table and the JSON results file."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, linearly interpolated between ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Result:
    """One measured number, with its target when the issue sets one.

    ``higher_is_better`` says which way the target points: throughputs must reach it,
    latencies and sizes must stay under it. ``x_floor`` and ``x_bare`` put the measurement
    beside yardsticks measured in the same run: its ratio to the same measurement of a
    reference shape (for a throughput, its rate over the reference's rate), and its size in
    bare calls (a latency divided by a bare call's; a rate times it, in calls per ms).
    """

    name: str
    unit: str
    p50: float
    p90: float | None = None
    target: float | None = None
    higher_is_better: bool = False
    note: str = ""
    p99: float | None = None
    x_floor: float | None = None
    x_bare: float | None = None
    calls: dict[str, float] | None = None
    """What the measured path made per run, by counter (Ray calls by actor and method)."""

    @property
    def ratio(self) -> float | None:
        """measured / target (>= 1 meets a throughput target, < 1 a latency or size target)."""
        return self.p50 / self.target if self.target else None

    @property
    def meets(self) -> bool | None:
        if self.target is None:
            return None
        return self.p50 >= self.target if self.higher_is_better else self.p50 < self.target

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "meets": self.meets}


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("events/s", "B", "events"):
        return f"{value:,.0f}" if value >= 1000 else f"{value:,.1f}"
    return f"{value:.3f}"


def _target(result: Result) -> str:
    if result.target is None:
        return "-"
    sign = ">=" if result.higher_is_better else "<"
    return f"{sign} {_fmt(result.target, result.unit)}"


def _verdict(result: Result) -> str:
    return {None: "", True: "ok", False: "MISS"}[result.meets]


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


COLUMNS: list[tuple[str, Callable[[Result], str]]] = [
    ("measurement", lambda r: r.name),
    ("p50", lambda r: _fmt(r.p50, r.unit)),
    ("p90", lambda r: _fmt(r.p90, r.unit)),
    ("p99", lambda r: _fmt(r.p99, r.unit)),
    ("unit", lambda r: r.unit),
    ("x floor", lambda r: _times(r.x_floor)),
    ("x bare", lambda r: _times(r.x_bare)),
    ("target", _target),
    ("ratio", lambda r: "-" if r.ratio is None else f"{r.ratio:.2f}"),
    ("", _verdict),
    ("note", lambda r: r.note),
]
OPTIONAL = {"p99": "p99", "x floor": "x_floor", "x bare": "x_bare"}
"""Columns shown only when some result has a value for them."""
LEFT = {"measurement", "unit", "target"}


def format_table(results: Sequence[Result]) -> str:
    """A fixed-width table: name, p50, p90, [p99], unit, [x floor, x bare], target, ratio,
    verdict, note (the bracketed columns only when some result fills them)."""
    columns = [
        (title, cell)
        for title, cell in COLUMNS
        if title not in OPTIONAL or any(getattr(r, OPTIONAL[title]) is not None for r in results)
    ]
    header = tuple(title for title, _ in columns)
    rows = [header] + [tuple(cell(r) for _, cell in columns) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(width) if header[i] in LEFT else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=False))
        ]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def write_json(
    path: Path, machine: dict[str, Any], config: dict[str, Any], results: Sequence[Result]
) -> None:
    """Write the run's machine info, settings and results where later runs can be compared."""
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"machine": machine, "config": config, "results": [r.as_json() for r in results]}
    path.write_text(json.dumps(document, indent=2) + "\n")
