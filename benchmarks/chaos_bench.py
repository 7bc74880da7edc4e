"""The chaos test as a benchmark: rounds of forty chaos workflows (Ray-task steps, durable
sleeps, children, signals between workflows) for as long as a killer SIGKILLs a random
workflow actor every 0.4 s, the registry and the store once each; how many workflows
completed per second, how many kills they survived, and that every result and history is
right. Run with ``make bench-chaos`` (``python -m benchmarks.chaos_bench [--seconds S]``).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import ray

import aion_ray as aion
from benchmarks.ray_engine import progress, start_ray
from benchmarks.report import Result, format_table
from tests.ray import chaos_workflows as cw
from tests.ray.chaos import Killer, check_history, results

WORKFLOWS = 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to kill")
    args = parser.parse_args()
    start_ray()
    directory = Path(tempfile.mkdtemp(prefix="aion-ray-chaos-"))
    client = aion.connect(
        store_path=directory / "chaos.duckdb",
        namespace="bench-chaos",
        pool_size=(4, 12),
        workflows_per_actor=5,
        restart_limit=(10_000, 60.0),
        idle_timeout=60,
    )
    killer = Killer(
        client, seconds=args.seconds, every=0.4, once_at={"registry": 2.0, "store": 4.5}
    )
    began = time.perf_counter()
    killer.start()
    done = rounds = 0
    while killer.is_alive():
        progress(f"round {rounds}: {done} workflows done, kills {dict(killer.killed)}")
        done += chaos_round(client, directory, rounds)
        rounds += 1
    killer.join()
    elapsed = time.perf_counter() - began
    client.shutdown()
    ray.shutdown()
    kills = sum(killer.killed.values())
    print(
        format_table(
            [
                Result("chaos: workflows completed", "wf/s", done / elapsed, higher_is_better=True),
                Result(
                    "chaos: kills survived", "kills", float(kills), note=str(dict(killer.killed))
                ),
            ]
        )
    )


def chaos_round(client: aion.Client, directory: Path, index: int) -> int:
    """One round of the chaos workflows, every result and history checked; how many."""
    runs = directory / f"runs-{index}"
    runs.mkdir()
    ids = [f"r{index}-chaos-{i}" for i in range(WORKFLOWS)]
    handles = [client.start(cw.chaos, (str(runs), i), id=wid) for i, wid in enumerate(ids)]
    for handle in handles:
        handle.signal("go", None)
    found = results(client, handles, timeout=300)
    assert found == [cw.expected(i) for i in range(WORKFLOWS)], found
    for handle in handles:
        check_history(handle.history())
    return WORKFLOWS


if __name__ == "__main__":
    main()
