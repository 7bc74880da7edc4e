"""Notebook displays of a long history: how long a 10,000-event history takes to render as
HTML (target under 1 s: it shows its first and last rows), to convert to Arrow, to fold into
the timeline model and to draw as SVG (bounded to 30 lanes and 2,000 bars).

Run with ``python -m benchmarks.display_bench [--activities N] [--repeat R]``; medians of R.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import aion_ray as aion
from aion_ray.display.picture import draw
from aion_ray.display.timeline import build_timeline
from aion_ray.testing import TestEngine


@aion.activity
def step(index: int) -> int:
    return index


@aion.workflow
async def long_run(ctx: aion.WorkflowContext, count: int) -> int:
    for index in range(count):
        await ctx.run(step, index)
    return count


def median_seconds(action: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activities", type=int, default=3334)  # 3 events each: 10,005
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    engine = TestEngine()
    handle = engine.start(long_run, args.activities, id="long")
    handle.result()
    history = handle.history()
    model = build_timeline(history)
    parts: dict[str, Callable[[], Any]] = {
        "history as HTML": history._repr_html_,
        "history to Arrow": history.to_arrow,
        "timeline model": lambda: build_timeline(history),
        "timeline SVG": lambda: draw(model, "svg"),
    }
    print(f"{len(history):,} events, median of {args.repeat}:")
    for name, action in parts.items():
        print(f"  {name:18} {median_seconds(action, args.repeat) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
