"""How many method calls per second one async Ray actor takes: the budget of a store actor.

    python -m benchmarks.ray_calls                  # 4 caller actors x 25 concurrent calls
    python -m benchmarks.ray_calls --callers 1 --concurrency 100

Each call carries one append's worth of encoded rows (10 events, ~1.3 KB) to an actor that
only counts them, so the number is Ray's own per-call cost on this machine, not the store's.
A store actor that takes one call per append can accept at most this many appends per second,
whatever its group commit does.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
from collections.abc import Sequence
from typing import Any

import ray

ROWS = 10
PAYLOAD = (
    [f"0192d6b7-0000-7000-8000-{i:012d}" for i in range(ROWS)],
    [f"0192d6b7-0001-7000-8000-{i:012d}" for i in range(ROWS)],
    list(range(1, ROWS + 1)),
    ["ActivityCompleted"] * ROWS,
    list(range(ROWS)),
    ['{"activity_id":1,"attempt":1,"result":{"codec":"json","value":{"loss":0.5}}}'] * ROWS,
)


@ray.remote
class Counter:
    """Stands in for the store actor: accepts a batch of rows and counts them."""

    def __init__(self) -> None:
        self.rows = 0

    async def append(self, workflow_id: str, rows: tuple[list[Any], ...]) -> int:
        self.rows += len(rows[0])
        return self.rows


@ray.remote
class Caller:
    """Stands in for workflow actors: ``concurrency`` workflows, each awaiting its calls."""

    async def run(self, target: Any, concurrency: int, calls: int) -> float:
        async def workflow(number: int) -> None:
            for _ in range(calls):
                await target.append.remote(f"wf-{number}", PAYLOAD)

        start = time.perf_counter()
        await asyncio.gather(*(workflow(n) for n in range(concurrency)))
        return time.perf_counter() - start


def measure(callers: int, concurrency: int, calls: int, repeats: int) -> list[float]:
    """Calls per second into one Counter, ``repeats`` times."""
    counter = Counter.remote()  # type: ignore[attr-defined]
    ray.get(counter.append.remote("warm-up", PAYLOAD))
    pool = [Caller.remote() for _ in range(callers)]  # type: ignore[attr-defined]
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        ray.get([caller.run.remote(counter, concurrency, calls) for caller in pool])
        rates.append(callers * concurrency * calls / (time.perf_counter() - start))
    return rates


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--callers", type=int, default=4, help="caller actors (processes)")
    parser.add_argument("--concurrency", type=int, default=25, help="workflows per caller")
    parser.add_argument("--calls", type=int, default=100, help="calls per workflow")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if min(args.callers, args.concurrency, args.calls, args.repeats) < 1:
        parser.error("every count must be >= 1")
    ray.init(include_dashboard=False, logging_level=logging.ERROR)
    try:
        rates = measure(args.callers, args.concurrency, args.calls, args.repeats)
    finally:
        ray.shutdown()
    print(
        f"{args.callers} callers x {args.concurrency} concurrent workflows, {ROWS} rows per "
        f"call: median {statistics.median(rates):,.0f} calls/s {[round(r) for r in rates]}"
    )


if __name__ == "__main__":
    main()
