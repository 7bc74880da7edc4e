"""Benchmark results: percentiles, the printed table and the JSON results file."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
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
    latencies and sizes must stay under it.
    """

    name: str
    unit: str
    p50: float
    p90: float | None = None
    target: float | None = None
    higher_is_better: bool = False
    note: str = ""

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


def format_table(results: Sequence[Result]) -> str:
    """A fixed-width table: name, p50, p90, unit, target, ratio, verdict, note."""
    header = ("measurement", "p50", "p90", "unit", "target", "ratio", "", "note")
    rows = [header] + [
        (
            r.name,
            _fmt(r.p50, r.unit),
            _fmt(r.p90, r.unit),
            r.unit,
            _target(r),
            "-" if r.ratio is None else f"{r.ratio:.2f}",
            _verdict(r),
            r.note,
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(width) if i in (0, 3, 4) else cell.rjust(width)
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
