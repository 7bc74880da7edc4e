"""The yardsticks of the Ray benchmark, measured in its cluster before the engine runs: a bare
call to an async Ray actor, and the floor of the engine's shape (``ray_floor``) at each
shape the engine's paths are compared with."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import ray_engine as engine
from benchmarks.ray_floor import Floor, FloorRun
from benchmarks.report import Result, percentile


@dataclass(frozen=True)
class Yardsticks:
    """The bare call and the floor's shapes, measured once per run."""

    bare: float
    commit: FloorRun
    local: FloorRun
    task: FloorRun
    task_step: float
    rate: float

    def latency(self, name: str, samples: list[float], floor: float | None, **kw: Any) -> Result:
        p50 = percentile(samples, 0.5)
        return Result(
            name,
            "ms",
            p50,
            p99=percentile(samples, 0.99),
            x_floor=p50 / floor if floor else None,
            x_bare=p50 / self.bare,
            **kw,
        )


def measure_floor(directory: Path, n: int, count: int) -> tuple[Yardsticks, list[Result]]:
    """The bare call and the floor's shapes, and their rows."""
    bare_samples = engine.bare_call_ms(200)
    engine.progress("floor")
    floor = Floor(str(directory / "floor.duckdb"))
    commit, local, task = (
        floor.latencies(n, steps, t) for steps, t in [(0, False), (1, False), (1, True)]
    )
    task11 = floor.latencies(n // 2, 11, True)
    rate = asyncio.run(floor.burst(count))
    floor.close()
    bare = percentile(bare_samples, 0.5)
    sticks = Yardsticks(bare, commit, local, task, (task11.p50 - task.p50) / 10, rate)
    bare_row = Result("bare Ray actor call (yardstick)", "ms", bare, percentile(bare_samples, 0.9))
    return sticks, [bare_row, *_floor_rows(sticks, task11, count)]


def _floor_rows(sticks: Yardsticks, task11: FloorRun, count: int) -> list[Result]:
    shapes = [
        ("one commit (client -> host -> store -> reply)", sticks.commit),
        ("one step, local", sticks.local),
        ("one step, Ray task", sticks.task),
    ]
    eleven = f"11 steps p50 {task11.p50:.1f} ms, p99 {task11.p99:.1f} ms; {task11.calls_note()}"
    return [
        *(
            sticks.latency(
                f"floor: {name}", run.samples, None, note=run.calls_note(), calls=run.calls
            )
            for name, run in shapes
        ),
        Result(
            "floor: per added step, Ray task",
            "ms",
            sticks.task_step,
            x_bare=sticks.task_step / sticks.bare,
            note=eleven,
            calls=task11.calls,
        ),
        Result(
            f"floor: {count} concurrent one-step, local",
            "wf/s",
            sticks.rate,
            x_bare=sticks.rate * sticks.bare / 1000,
            higher_is_better=True,
            note="one host actor, one fsync per commit (no group commit)",
        ),
    ]
