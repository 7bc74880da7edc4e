"""Schedules benchmark on local Ray (issue 18): tick lateness and the cost of idle schedules.

    python -m benchmarks.schedule_bench                  # 100 x every second for 20 s; 10,000 idle
    python -m benchmarks.schedule_bench --seconds 10 --idle 2000   # quicker
    python -m benchmarks.schedule_bench --idle 0      # lateness only (--firing 0: idle only)

Lateness: ``--firing`` schedules fire every second (overlap ``allow_all``, a workflow that
returns at once, ``--per-actor`` workflows per host so the pool's size is not what is
measured) for ``--seconds``; each run's lateness is its WorkflowStarted time (durable
in the store) minus its scheduled time, p50/p99 over every run. Idle cost: ``--idle``
schedules (a daily cron, never due during the run) are created, and the registry process's
resident memory (``/proc/<pid>/status``) is read before and after, and its CPU
(``/proc/<pid>/stat``) over ``--quiet`` seconds of idling with them. Prints the numbers and
writes them as JSON (``--json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aion_ray as aion
from benchmarks.ray_engine import start_ray
from benchmarks.report import percentile


@aion.workflow
async def noop(ctx: aion.WorkflowContext, n: int) -> int:
    return n


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def lateness(client: aion.Client, firing: int, seconds: float) -> dict[str, Any]:
    """Fire ``firing`` schedules every second for ``seconds``; lateness of each run. They
    are created first, with a ``start_at`` after the creates (and a warm-up run), so every
    tick measured is one of all ``firing`` schedules firing together."""
    client.start(noop, 0).result(timeout=60)  # a warm pool and code
    start_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=5 + firing / 20)
    end_at = start_at + timedelta(seconds=seconds - 1)
    for n in range(firing):
        client.schedule(
            f"fire-{n:03d}",
            noop,
            n,
            every=timedelta(seconds=1),
            overlap="allow_all",
            start_at=start_at,
            end_at=end_at,
        )
    print(f"{firing} schedules firing every second from {start_at} for {seconds} s", flush=True)
    time.sleep(max(0.0, (end_at - datetime.now(UTC)).total_seconds()) + 5)
    rows = client.sql(
        "SELECT started_at, search_attributes->>'aion_scheduled_time' AS tick "
        "FROM workflows WHERE workflow_id LIKE 'fire-%'"
    ).to_pylist()
    late = [
        (row["started_at"] - datetime.fromisoformat(row["tick"])).total_seconds() * 1000
        for row in rows
    ]
    return {
        "firing_schedules": firing,
        "runs": len(late),
        "runs_expected": firing * int(seconds),
        "lateness_p50_ms": round(percentile(late, 0.5), 1),
        "lateness_p99_ms": round(percentile(late, 0.99), 1),
        "lateness_max_ms": round(max(late), 1),
    }


async def create_idle(client: aion.Client, idle: int) -> None:
    batch = 200
    for start in range(0, idle, batch):
        await asyncio.gather(
            *(
                client.schedule_async(f"idle-{n:05d}", noop, n, cron="0 3 * * *")
                for n in range(start, min(idle, start + batch))
            )
        )


def idle_cost(client: aion.Client, idle: int, quiet: float) -> dict[str, Any]:
    pid = client.registry.pid().get()
    before = rss_mb(pid)
    began = time.perf_counter()
    asyncio.run(create_idle(client, idle))
    took = time.perf_counter() - began
    time.sleep(2)
    cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
    time.sleep(quiet)
    cpu = (cpu_seconds(pid) - cpu0) / (time.perf_counter() - wall0)
    after = rss_mb(pid)
    return {
        "idle_schedules": idle,
        "create_seconds": round(took, 1),
        "creates_per_second": round(idle / took, 1),
        "registry_rss_before_mb": round(before, 1),
        "registry_rss_after_mb": round(after, 1),
        "registry_rss_per_1000_schedules_mb": round((after - before) / idle * 1000, 2),
        "registry_cpu_idle_percent": round(cpu * 100, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firing", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--idle", type=int, default=10_000)
    parser.add_argument("--quiet", type=float, default=10.0)
    parser.add_argument(
        "--per-actor", type=int, default=50, help="workflows_per_actor (1: a host per run)"
    )
    parser.add_argument("--json", type=Path, default=Path("bench-results/schedules.json"))
    args = parser.parse_args()
    start_ray("schedule-bench")
    results: dict[str, Any] = {"cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        client = aion.connect(
            store_path=Path(tmp) / "bench.duckdb",
            namespace="schedule-bench",
            workflows_per_actor=args.per_actor,
        )
        try:
            if args.firing:
                results |= lateness(client, args.firing, args.seconds)
                print(json.dumps(results), flush=True)
            if args.idle:
                results |= idle_cost(client, args.idle, args.quiet)
        finally:
            client.shutdown()
    print(json.dumps(results, indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
