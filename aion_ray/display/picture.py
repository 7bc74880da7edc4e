"""TimelinePicture: a workflow's timeline drawn with matplotlib, shown by Jupyter as SVG (or
PNG) and saved to either. matplotlib is imported only when a picture is first drawn."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from aion_ray.display.timeline import Bar, Marker, Timeline, build_timeline
from aion_ray.errors import InvalidInputError
from aion_ray.model import events as ev
from aion_ray.model.store import LifecycleEntry

OUTCOME_COLOURS = {
    "completed": "#2ca02c",
    "fired": "#17becf",
    "running": "#1f77b4",
    "waiting": "#aec7e8",
    "retried": "#ff7f0e",
    "interrupted": "#9467bd",
    "failed": "#d62728",
    "timed_out": "#d62728",
    "cancelled": "#7f7f7f",
    "continued_as_new": "#bcbd22",
    "paused": "#8c564b",
}
MAX_LANES = 30
"""Lanes drawn at most; one last lane says how many more there are (their bars are left out)."""
MAX_BARS = 600
"""Bars drawn at most: each costs about 2 ms to draw, and a picture of more reads no better."""
UNITS = ((120.0, 1.0, "s"), (7200.0, 60.0, "min"), (172800.0, 3600.0, "h"))


class TimelinePicture:
    """A picture of one workflow's timeline (see ``aion_ray.display.timeline``).

    Jupyter shows it as ``image/svg+xml`` (``format="png"``: ``image/png``); ``save(path)``
    writes ``.svg`` or ``.png``; ``model`` is the data drawn.
    """

    def __init__(self, model: Timeline, format: str = "svg") -> None:
        if format not in ("svg", "png"):
            raise InvalidInputError(f"a timeline is shown as 'svg' or 'png', not {format!r}")
        self.model = model
        self.format = format
        self._drawn: dict[str, bytes] = {}

    @classmethod
    def of(
        cls,
        events: Sequence[ev.Event],
        lifecycle: Sequence[LifecycleEntry] = (),
        now: datetime | None = None,
        format: str = "svg",
    ) -> TimelinePicture:
        """The picture of ``events`` (one workflow's history); open bars end at ``now``."""
        return cls(build_timeline(events, lifecycle, now), format)

    def svg(self) -> str:
        return self._draw("svg").decode()

    def png(self) -> bytes:
        return self._draw("png")

    def save(self, path: str | Path) -> Path:
        """Write the picture to ``path``, as SVG or PNG by its suffix; the path written."""
        target = Path(path)
        kind = target.suffix.lower().lstrip(".")
        if kind not in ("svg", "png"):
            raise InvalidInputError(f"save a timeline as .svg or .png, not {str(path)!r}")
        target.write_bytes(self._draw(kind))
        return target

    def _repr_svg_(self) -> str | None:
        return self.svg() if self.format == "svg" else None

    def _repr_png_(self) -> bytes | None:
        return self.png() if self.format == "png" else None

    def __repr__(self) -> str:
        m = self.model
        return (
            f"TimelinePicture({m.title!r}: {len(m.lanes)} lanes, {len(m.bars)} bars, "
            f"{len(m.markers)} markers, {len(m.shaded)} suspended periods)"
        )

    def _draw(self, kind: str) -> bytes:
        if kind not in self._drawn:
            self._drawn[kind] = draw(self.model, kind)
        return self._drawn[kind]


def draw(model: Timeline, kind: str) -> bytes:
    """The picture as ``kind`` (svg or png) bytes; the same model draws the same bytes."""
    import matplotlib  # noqa: PLC0415 - optional, and heavy: only a drawing pays for it
    from matplotlib.figure import Figure  # noqa: PLC0415

    lanes, bars, markers = bounded(model)
    scale, unit = time_unit(model.end)
    figure = Figure(figsize=(10, 1.2 + 0.32 * max(1, len(lanes))), layout="constrained")
    axes = figure.add_subplot()
    _shade(axes, model, scale)
    _bars(axes, bars, scale, model.end)
    _markers(axes, markers, scale)
    _decorate(axes, model, lanes, unit, hidden=len(model.bars) - len(bars))
    buffer = io.BytesIO()
    settings: Any = {"svg.fonttype": "none", "svg.hashsalt": "aion-timeline"}
    with matplotlib.rc_context(settings):
        metadata = {"Date": None} if kind == "svg" else {"Software": None}
        figure.savefig(buffer, format=kind, metadata=metadata, dpi=100)
    return buffer.getvalue()


def bounded(model: Timeline) -> tuple[list[str], list[Bar], list[Marker]]:
    """The lanes, bars and markers drawn: the first MAX_LANES - 1 lanes (then one that counts
    the rest) and at most MAX_BARS bars and markers."""
    lanes = list(model.lanes)
    if len(lanes) > MAX_LANES:
        rest = len(lanes) - (MAX_LANES - 1)
        lanes = [*lanes[: MAX_LANES - 1], f"… {rest:,} more lanes"]
    shown = len(lanes) if len(lanes) <= MAX_LANES - 1 else MAX_LANES - 1
    bars = [b for b in model.bars if b.lane < shown][:MAX_BARS]
    markers = [m for m in model.markers if m.lane < shown][:MAX_BARS]
    return lanes, bars, markers


def time_unit(end: float) -> tuple[float, str]:
    """Seconds per unit and its name, so the axis reads 0-120 s, min, h or days."""
    for limit, scale, unit in UNITS:
        if end <= limit:
            return scale, unit
    return 86400.0, "days"


def _shade(axes: Any, model: Timeline, scale: float) -> None:
    for index, (start, end) in enumerate(model.shaded):
        patch = axes.axvspan(start / scale, end / scale, color="#dddddd", zorder=0)
        patch.set_gid(f"suspended-{index}")
        if index == 0:
            patch.set_label("suspended")


def _bars(axes: Any, bars: Sequence[Bar], scale: float, end: float) -> None:
    """One rectangle per bar, its gid naming the attempt. Added as plain artists: the axes'
    limits are set once here, instead of being updated for every patch (10 ms each)."""
    from matplotlib.patches import Rectangle  # noqa: PLC0415

    least = max(end, 1e-3) / 400 / scale  # an instant still shows as a sliver
    for bar in bars:
        width = max((bar.end - bar.start) / scale, least)
        colour = OUTCOME_COLOURS.get(bar.outcome, "#555555")
        patch = Rectangle(
            (bar.start / scale, bar.lane - 0.3),
            width,
            0.6,
            facecolor=colour,
            edgecolor="white",
            linewidth=0.6,  # back-to-back attempts stay apart
        )
        patch.set_gid(bar.gid)
        axes.add_artist(patch)
    axes.set_xlim(0, max(end / scale, least) * 1.02)


def _markers(axes: Any, markers: Sequence[Marker], scale: float) -> None:
    for marker in markers:
        [line] = axes.plot([marker.at / scale], [marker.lane], "v", color="#e377c2", ms=9)
        line.set_gid(marker.gid)
        axes.annotate(
            marker.label[:24],
            (marker.at / scale, marker.lane),
            xytext=(4, 6),
            textcoords="offset points",
            fontsize=8,
        )


def _decorate(axes: Any, model: Timeline, lanes: list[str], unit: str, hidden: int) -> None:
    from matplotlib.patches import Patch  # noqa: PLC0415

    axes.set_yticks(range(len(lanes)), [label[:40] for label in lanes])
    axes.set_ylim(len(lanes) - 0.5, -0.5)
    axes.set_xlabel(f"{unit} since the first event")
    axes.grid(axis="x", alpha=0.3)
    more = f" ({hidden:,} more bars not drawn)" if hidden > 0 else ""
    axes.set_title(f"{model.title}{more}", loc="left", fontsize=10)
    outcomes = {b.outcome for b in model.bars}
    handles = [Patch(color=c, label=o) for o, c in OUTCOME_COLOURS.items() if o in outcomes]
    if model.shaded:
        handles.append(Patch(color="#dddddd", label="suspended"))
    if handles:
        axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
