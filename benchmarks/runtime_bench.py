"""Runtime benchmarks: replay speed and the runtime's own overhead per activity.

Run with ``make bench-runtime`` (or ``python -m benchmarks.runtime_bench [--activities N]``).

1. Replaying a 10,000-activity history to its resume point (the workflow then waits for a
   signal): target under 0.5 s, i.e. at least 20,000 events/s.
2. The runtime's own overhead per activity in a live run: a WorkflowRun driven by hand, with
   the host's part reduced to stamping each command's event and feeding back a result, so
   only the runtime (cursor, loop, codec, futures) is timed: target under 50 us.
3. For context, the whole in-process TestEngine per activity (runtime, driver, recorder and
   the in-memory store).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aion_ray as aion
from aion_ray.model import events as ev
from aion_ray.model.payload import encode
from aion_ray.runtime import commands as cmd
from aion_ray.runtime.run import WorkflowRun
from aion_ray.testing import TestEngine
from benchmarks.report import Result, format_table, write_json

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@aion.activity
def step(i: int) -> int:
    return i + 1


@aion.workflow
async def pipeline(ctx: aion.WorkflowContext, count: int) -> int:
    total = 0
    for i in range(count):
        total += await ctx.run(step, i)
    await ctx.wait_signal("done")
    return total


def recorded_history(count: int) -> list[ev.Event]:
    """A history of ``count`` completed activities, as the engine records it."""
    engine = TestEngine()
    handle = engine.start(pipeline, count, id="bench")
    return handle.history()


def time_replay(history: list[ev.Event], repeats: int) -> list[float]:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        run = WorkflowRun(pipeline, history)
        assert run.advance() == [], "replay must reach its resume point without new commands"
        timings.append(time.perf_counter() - started)
    return timings


class HandDriver:
    """The least a host can do: feed back each command's event and a result. The events are
    built before timing starts, so only the runtime is measured."""

    def __init__(self, count: int) -> None:
        started = ev.WorkflowStarted(
            workflow_id="live",
            run_id="r",
            seq=1,
            recorded_at=T0,
            workflow_type="pipeline",
            input=encode(count),
        )
        self.run = WorkflowRun(pipeline, [started])
        self.feed = [self._events(i) for i in range(count)]

    @staticmethod
    def _events(i: int) -> tuple[ev.Event, ev.Event]:
        at = T0 + timedelta(microseconds=i)
        common = {"workflow_id": "live", "run_id": "r", "recorded_at": at, "activity_id": i + 1}
        scheduled = ev.ActivityScheduled(
            **common, seq=2 * i + 2, activity_type="step", input=encode([i])
        )
        completed = ev.ActivityCompleted(**common, seq=2 * i + 3, attempt=1, result=encode(i + 1))
        return scheduled, completed

    def drive(self) -> int:
        activities = 0
        commands = self.run.advance()
        for scheduled, completed in self.feed:
            assert isinstance(commands[0], cmd.ScheduleActivity)
            self.run.advance([scheduled])
            commands = self.run.advance([completed])
            activities += 1
        return activities


def time_live(count: int, repeats: int) -> list[float]:
    timings = []
    for _ in range(repeats):
        driver = HandDriver(count)
        started = time.perf_counter()
        assert driver.drive() == count
        timings.append((time.perf_counter() - started) / count)
    return timings


def time_engine(count: int, repeats: int) -> list[float]:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        recorded_history(count)
        timings.append((time.perf_counter() - started) / count)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    history = recorded_history(args.activities)
    replay = time_replay(history, args.repeats)
    live = time_live(2_000, args.repeats)
    engine = time_engine(2_000, args.repeats)
    events_per_s = [len(history) / t for t in replay]
    results = [
        Result(
            f"replay {args.activities:,}-activity history",
            "s",
            statistics.median(replay),
            max(replay),
            target=0.5,
            note=f"{len(history):,} events; max in p90 column",
        ),
        Result(
            "replay throughput",
            "events/s",
            statistics.median(events_per_s),
            target=20_000,
            higher_is_better=True,
        ),
        Result(
            "runtime overhead per activity (live)",
            "us",
            statistics.median(live) * 1e6,
            max(live) * 1e6,
            target=50.0,
            note="WorkflowRun driven by hand; 2,000 activities",
        ),
        Result(
            "TestEngine per activity (whole host)",
            "us",
            statistics.median(engine) * 1e6,
            max(engine) * 1e6,
            note="runtime + driver + recorder + in-memory store",
        ),
    ]
    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    print(format_table(results))
    config: dict[str, Any] = {"activities": args.activities, "repeats": args.repeats}
    machine = {"python": platform.python_version(), "machine": platform.machine()}
    write_json(Path("bench-results/runtime.json"), machine, config, results)


if __name__ == "__main__":
    main()
