"""Small HTML building blocks. Every piece of text is escaped on its way in: workflow ids,
types, payloads and error messages are user data, and a notebook must show them, not run them.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

STATUS_COLOURS = {
    "running": "#1f77b4",
    "paused": "#8c564b",
    "completed": "#2ca02c",
    "failed": "#d62728",
    "cancelled": "#7f7f7f",
    "timed_out": "#ff7f0e",
    "continued_as_new": "#9467bd",
}
DETAIL_WIDTH = 120
"""Characters of a payload or detail shown in a cell; the rest is cut and marked."""


class Safe(str):
    """Text that is already HTML (built here from escaped parts): not escaped again."""

    __slots__ = ()


def escape(value: object) -> Safe:
    """``value`` as text that displays literally in HTML (Safe text is kept as it is)."""
    if isinstance(value, Safe):
        return value
    return Safe(html.escape(str(value), quote=True))


def abbreviate(text: str, width: int = DETAIL_WIDTH) -> str:
    """``text`` cut to ``width`` characters, saying how much was left out."""
    if len(text) <= width:
        return text
    return f"{text[:width]}… (+{len(text) - width:,} chars)"


def badge(status: object) -> Safe:
    """The status as a coloured pill."""
    text = str(status)
    colour = STATUS_COLOURS.get(text, "#555555")
    style = (
        f"background:{colour};color:white;border-radius:0.8em;padding:0.1em 0.6em;"
        "font-size:0.85em;white-space:nowrap"
    )
    return Safe(f"<span class='aion-status' style='{style}'>{escape(text)}</span>")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], caption: str = "") -> Safe:
    """A table; each cell is escaped unless it is Safe."""
    head = "".join(f"<th style='text-align:left'>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:left'>{escape(c)}</td>" for c in row) + "</tr>"
        for row in rows
    )
    title = f"<caption style='text-align:left'>{escape(caption)}</caption>" if caption else ""
    return Safe(
        f"<table class='aion'>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def gap_row(width: int, hidden: int, what: str) -> list[object]:
    """A row that stands for ``hidden`` rows left out of a long table."""
    cell = Safe(f"<i>… {hidden:,} more {escape(what)} not shown …</i>")
    return [cell, *([""] * (width - 1))]


def head_and_tail(count: int, limit: int) -> tuple[range, range]:
    """The indexes of the first and last rows shown of ``count`` when at most ``limit`` fit."""
    if count <= limit:
        return range(count), range(count, count)
    half = limit // 2
    return range(half), range(count - (limit - half), count)


def stamp(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def span(length: timedelta) -> str:
    """A duration the way people read it: 850 ms, 12.3 s, 4 min 5 s, 2 h 3 min, 7 d 2 h."""
    seconds = length.total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    days, hours, minutes = whole // 86400, whole % 86400 // 3600, whole % 3600 // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {whole % 60} s"
