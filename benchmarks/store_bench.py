"""Store benchmark: DuckDBHistoryStore against the performance targets of the storage issue.

    python -m benchmarks.store_bench            # 10M-event file for reads, SQL and size
    python -m benchmarks.store_bench --quick    # 1M events, fewer repeats
    python -m benchmarks.store_bench --only group --output /tmp/g.json   # one part

All writes are durable (DuckDB's default fsync_mode, a file on local disk in a temp dir); every
event is built before the clock starts. Prints a table and writes it as JSON to
bench-results/store.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from aion_ray.model.events import Event
from aion_ray.storage import DuckDBHistoryStore, Lease, WriterStats
from aion_ray.storage.codec import EventColumns
from aion_ray.storage.duckdb.db import READ_HISTORY
from aion_ray.storage.duckdb.maintenance import open_database
from benchmarks.report import Result, format_table, percentile, write_json
from benchmarks.store_bulk import BulkLoad, bulk_load, workflow_ids
from benchmarks.store_workloads import (
    DRIVERS,
    HistoryStream,
    acquire_leases,
    activity_events,
    append_concurrently,
    interleave,
    started_workflows,
    typical_workflow,
)

RESULTS_PATH = Path(__file__).resolve().parents[1] / "bench-results" / "store.json"
MS = 1000.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def machine_info(directory: str) -> dict[str, Any]:
    """nproc, CPU, Python and DuckDB versions, and the fsync mode writes run with."""
    fsync = duckdb.connect().execute("SELECT current_setting('fsync_mode')").fetchone()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")),
        platform.processor(),
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "fsync_mode": fsync[0] if fsync else "?",
        "temp_dir": directory,
    }


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def fresh_store(directory: str, name: str, **options: Any) -> DuckDBHistoryStore:
    path = Path(directory) / f"{name}.duckdb"
    for stale in (path, Path(f"{path}.wal")):
        stale.unlink(missing_ok=True)
    return DuckDBHistoryStore(path, **options)


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


# --- 1. group commit from 100 concurrent workflows --------------------------------------------


@dataclass(frozen=True)
class GroupRun:
    """One group-commit run: its rate, group size and how busy the single writer was."""

    events_per_second: float
    events_per_group: float
    writer_busy: float
    """Share of the run's wall time the writer thread spent on groups."""
    writing_share: float
    """Share of the writer's time in buffering rows and DuckDB statements up to COMMIT."""


def group_commit_run(
    directory: str, threads: int, batch: int, events: int, mode: str = "append"
) -> GroupRun:
    """One run: ``threads`` workflows, each on a thread (or an asyncio task), append
    ``events`` activity events in batches of ``batch``, through ``mode`` (see DRIVERS)."""
    store = fresh_store(directory, f"group-{batch}")
    appender = DRIVERS[mode]
    try:
        plans, leases = started_workflows(store, threads, batch, events)
        before = store.writer_stats
        run = appender(store, plans, leases)
        after = store.writer_stats
    finally:
        store.close()
    busy = _writer_seconds(after) - _writer_seconds(before)
    writing = after.writing_seconds - before.writing_seconds
    return GroupRun(
        events_per_second=run.events / run.seconds,
        events_per_group=run.events / max(run.groups, 1),
        writer_busy=busy / run.seconds,
        writing_share=writing / busy if busy else 0.0,
    )


def _writer_seconds(stats: WriterStats) -> float:
    return stats.staging_seconds + stats.writing_seconds + stats.replying_seconds


def measure_group_commit(
    directory: str,
    batch: int,
    threads: int,
    events: int,
    repeats: int,
    mode: str = "append",
) -> Result:
    """Target 1: durable appends/s with ``threads`` workflows appending concurrently."""
    runs = [group_commit_run(directory, threads, batch, events, mode) for _ in range(repeats)]
    rates = [run.events_per_second for run in runs]
    group = statistics.median(run.events_per_group for run in runs)
    busy = statistics.median(run.writer_busy for run in runs)
    writing = statistics.median(run.writing_share for run in runs)
    log(
        f"group commit, batch {batch}: {[round(r) for r in rates]} events/s, {group:.0f}/group, "
        f"writer busy {busy:.0%} ({writing:.0%} of it writing)"
    )
    return Result(
        name=f"1. {threads} wf x batch {batch}: {mode}",
        unit="events/s",
        p50=statistics.median(rates),
        p90=None,
        target=50_000,
        higher_is_better=True,
        note=f"median of {repeats} runs ({min(rates):,.0f}-{max(rates):,.0f}); "
        f"{group:.0f} events/group ({group / batch:.1f} appends); writer busy {busy:.0%}, "
        f"{writing:.0%} of that in DuckDB writes",
    )


# --- 2. one workflow on an idle store ---------------------------------------------------------


def single_append_latencies(directory: str, count: int) -> tuple[list[float], list[float]]:
    """Alternating appends of [Scheduled, Started] and [Completed] for ``count`` activities
    of one workflow; returns the seconds each 2-event and each 1-event append took. The
    events are built between appends (not timed), as the runtime would."""
    store = fresh_store(directory, "single")
    try:
        s = HistoryStream()
        lease = store.acquire_lease(s.workflow_id)
        store.append(s.workflow_id, [s.started()], expected_seq=0, lease=lease)
        two: list[float] = []
        one: list[float] = []
        for activity_id in range(1, count + 1):
            scheduled, started, completed = s.activity(activity_id)
            two.append(_timed_append(store, [scheduled, started], lease))
            one.append(_timed_append(store, [completed], lease))
    finally:
        store.close()
    return two, one


def _timed_append(store: DuckDBHistoryStore, batch: list[Event], lease: Lease) -> float:
    start = time.perf_counter()
    store.append(batch[0].workflow_id, batch, expected_seq=batch[0].seq - 1, lease=lease)
    return time.perf_counter() - start


def one_event_commits(directory: str, count: int) -> float:
    """Sequential one-event appends of one workflow: events/s when every event is a commit."""
    store = fresh_store(directory, "one-by-one")
    try:
        s = HistoryStream()
        lease = store.acquire_lease(s.workflow_id)
        store.append(s.workflow_id, [s.started()], expected_seq=0, lease=lease)
        events = activity_events(s, count)
        start = time.perf_counter()
        for event in events:
            store.append(s.workflow_id, [event], expected_seq=event.seq - 1, lease=lease)
        seconds = time.perf_counter() - start
    finally:
        store.close()
    return count / seconds


def duckdb_commit_latencies(directory: str, count: int) -> list[float]:
    """Baseline under target 2: bare DuckDB (the store's schema and settings, no store code)
    committing one events row per appender flush, as the store does for a lone append."""
    con, _ = open_database(str(Path(directory) / "bare.duckdb"))
    try:
        s = HistoryStream()
        rows = EventColumns.of([s.started(), *activity_events(s, count - 1)]).rows(commit_id=1)
        appender = con.appender("events")
        latencies = []
        for row in rows:
            start = time.perf_counter()
            appender.append_rows([row])
            appender.flush()
            latencies.append(time.perf_counter() - start)
    finally:
        con.close()
    return latencies


def measure_single_workflow(directory: str, count: int, repeats: int) -> list[Result]:
    """Target 2: latency of one small durable append on an otherwise idle store."""
    two, one = single_append_latencies(directory, count)
    rates = [one_event_commits(directory, 2 * count) for _ in range(repeats)]
    bare = duckdb_commit_latencies(directory, count)
    p50s = [percentile(values, 0.5) * MS for values in (two, one, bare)]
    log(
        "single append p50 2 events / 1 event / bare DuckDB: "
        + " / ".join(f"{v:.3f} ms" for v in p50s)
    )
    log(f"one event per commit: {[round(r) for r in rates]} events/s")
    return [
        _latency("2. 1 wf: append 2 events", two, 2.0, "ActivityScheduled+ActivityStarted"),
        _latency("2. 1 wf: append 1 event", one, 2.0, "ActivityCompleted"),
        _latency("2. bare DuckDB 1-row commit", bare, None, "appender flush, no store code"),
        Result(
            name="2. 1 wf: one event per commit",
            unit="events/s",
            p50=statistics.median(rates),
            note=f"median of {repeats} runs of {2 * count} appends; issue: ~1,200 on dev machine",
        ),
    ]


def _latency(name: str, seconds: Sequence[float], target_ms: float | None, note: str) -> Result:
    return Result(
        name=name,
        unit="ms",
        p50=percentile(seconds, 0.5) * MS,
        p90=percentile(seconds, 0.9) * MS,
        target=target_ms,
        note=f"{note}; n={len(seconds)}",
    )


# --- 3 and 4. reads and SQL over the bulk-loaded file -----------------------------------------


def read_latencies(store: DuckDBHistoryStore, ids: Sequence[str]) -> list[float]:
    """Seconds for store.read_history of each id; checks each history has 50 events."""
    latencies = []
    for workflow_id in ids:
        start = time.perf_counter()
        history = store.read_history(workflow_id)
        latencies.append(time.perf_counter() - start)
        if len(history) != 50:
            raise AssertionError(f"{workflow_id}: {len(history)} events, expected 50")
    return latencies


def query_latencies(store: DuckDBHistoryStore, ids: Sequence[str]) -> list[float]:
    """The read_history query alone (fetchall, no event decoding), for comparison."""

    def timed(cursor: duckdb.DuckDBPyConnection) -> list[float]:
        latencies = []
        for workflow_id in ids:
            start = time.perf_counter()
            cursor.execute(READ_HISTORY, [workflow_id, 1]).fetchall()
            latencies.append(time.perf_counter() - start)
        return latencies

    return store._readers.run(timed)


def measure_reads(
    store: DuckDBHistoryStore, ids: Sequence[str], warmup: int, total: int
) -> list[Result]:
    """Target 3: read_history of random 50-event histories among all the bulk-loaded ones."""
    read_latencies(store, ids[:warmup])
    sample = ids[warmup:]
    first = read_latencies(store, sample)
    again = read_latencies(store, sample)
    store._histories.clear()  # what a long-running store sees: DuckDB's buffers warm, no cache
    warm = read_latencies(store, sample)
    query = query_latencies(store, sample)
    p50s = [percentile(values, 0.5) * MS for values in (first, again, warm, query)]
    log(
        "reads: p50 first / cached / warm buffers / SQL only: "
        + " / ".join(f"{v:.3f} ms" for v in p50s)
    )
    where = f"random histories among {total:,} events"
    return [
        _latency("3. read_history (50 events)", first, 2.0, f"first read, {where}"),
        _latency("3. read_history, same ids again", again, None, "from the history cache"),
        _latency("3. read_history, warm buffers", warm, None, "cache cleared, DuckDB's warm"),
        _latency("3. its SQL alone (no decoding)", query, None, "fetchall of READ_HISTORY"),
    ]


def measure_group_by(store: DuckDBHistoryStore, runs: int, label: str) -> Result:
    """Target 4: an analytical query over every event through store.sql."""
    query = "select type, count(*) from events group by 1"
    store.sql(query)  # warm-up
    seconds = [timed(lambda: store.sql(query)) for _ in range(runs)]
    log(f"group by ({label}): {[round(s, 3) for s in seconds]} s")
    return Result(
        name=f"4. SQL group by type ({label})",
        unit="s",
        p50=statistics.median(seconds),
        p90=max(seconds),
        target=0.1 if label.startswith("default") else None,
        note=f"{runs} runs after a warm-up; p90 column = max",
    )


# --- 5. bytes per event ------------------------------------------------------------------------


def typical_mix_file(directory: str, workflows: int, threads: int) -> tuple[int, int, int]:
    """Fill a store through append(): ``workflows`` typical histories from ``threads`` threads.
    Returns (events, file bytes after close, bytes of an empty store file)."""
    empty = fresh_store(directory, "empty")
    empty.close()
    empty_bytes = os.path.getsize(empty.path)
    store = fresh_store(directory, "typical")
    try:
        histories = [typical_workflow() for _ in range(workflows)]
        plans = [interleave(histories[t::threads]) for t in range(threads)]
        leases = acquire_leases(store, plans)
        run = append_concurrently(store, plans, leases)
    finally:
        store.close()
    rate = run.events / run.seconds
    log(f"typical mix: {run.events} events in {run.seconds:.1f} s ({rate:,.0f}/s)")
    return run.events, os.path.getsize(store.path), empty_bytes


def measure_typical_size(directory: str, workflows: int) -> list[Result]:
    """Target 5b: file bytes per event for histories written by the real append path."""
    events, size, empty = typical_mix_file(directory, workflows, threads=100)
    note = f"{workflows:,} wf x 14 events, 100 threads; file {size / 1e6:.1f} MB"
    return [
        Result("5b. bytes/event, append() mix", "B", size / events, target=120, note=note),
        Result(
            "5b. same minus empty-file size",
            "B",
            (size - empty) / events,
            note=f"empty store file = {empty / 1e6:.2f} MB",
        ),
    ]


def bulk_size_results(load: BulkLoad, size_after_reads: int) -> list[Result]:
    """Target 5a: bytes per event of the bulk-loaded file, with the index's share."""
    index = load.bytes_with_index - load.bytes_without_index
    return [
        Result(
            "5a. bytes/event, bulk-loaded file",
            "B",
            size_after_reads / load.events,
            target=120,
            note=f"{size_after_reads / 1e9:.2f} GB for {load.events:,} events",
        ),
        Result(
            "5a. of which the workflow_id index",
            "B",
            index / load.events,
            note=f"without index {load.bytes_without_index / load.events:.1f} B/event",
        ),
    ]


def measure_bulk_file(directory: str, events: int, reads: int, sql_runs: int) -> list[Result]:
    """Targets 3, 4 and 5a on one bulk-loaded file of ``events`` events."""
    path = str(Path(directory) / "bulk.duckdb")
    log(f"bulk-loading {events:,} events ...")
    load = bulk_load(path, events)
    log(f"loaded in {load.insert_seconds:.1f} s, index built in {load.index_seconds:.1f} s")
    numbers = random.Random(42).sample(range(load.workflows), reads + 20)
    ids = workflow_ids(path, numbers)
    start = time.perf_counter()
    store = DuckDBHistoryStore(path)
    log(f"store opened in {time.perf_counter() - start:.2f} s")
    try:
        results = measure_reads(store, ids, warmup=20, total=events)
        results.append(measure_group_by(store, sql_runs, "default threads=1"))
    finally:
        store.close()
    store = DuckDBHistoryStore(path, threads=os.cpu_count() or 1)
    try:
        results.append(measure_group_by(store, sql_runs, f"threads={os.cpu_count()}"))
    finally:
        store.close()
    return results + bulk_size_results(load, os.path.getsize(path))


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events", type=int, default=10_000_000, help="bulk-loaded events (multiple of 100,000)"
    )
    parser.add_argument("--quick", action="store_true", help="1M events and fewer repeats")
    parser.add_argument("--repeats", type=int, default=3, help="runs per throughput number")
    parser.add_argument(
        "--events-per-thread",
        type=int,
        default=1200,
        help="target 1: events each of the 100 threads appends",
    )
    parser.add_argument(
        "--dir", default=None, help="parent directory for the temporary store files"
    )
    parser.add_argument(
        "--typical-workflows", type=int, default=2000, help="target 5b: workflows appended"
    )
    parser.add_argument(
        "--only",
        choices=PARTS,
        action="append",
        help="run only these parts (repeatable), e.g. for a quick before/after comparison",
    )
    parser.add_argument("--output", type=Path, default=RESULTS_PATH, help="JSON results file")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.repeats, args.events_per_thread = 1_000_000, 1, 600
    if args.events <= 0 or args.events % 100_000:
        parser.error("--events must be a positive multiple of 100,000")
    return args


PARTS = ("group", "single", "bulk", "size")
"""group: target 1; single: target 2; bulk: targets 3, 4 and 5a; size: target 5b."""


def run(args: argparse.Namespace, directory: str) -> list[Result]:
    parts = set(args.only or PARTS)
    results: list[Result] = []
    if "group" in parts:
        for mode in ("append", "append_async"):
            for batch in (1, 5, 10):
                results.append(
                    measure_group_commit(
                        directory, batch, 100, args.events_per_thread, args.repeats, mode
                    )
                )
    if "single" in parts:
        results += measure_single_workflow(directory, count=500, repeats=args.repeats)
    if "bulk" in parts:
        results += measure_bulk_file(directory, args.events, reads=200, sql_runs=5)
    if "size" in parts:
        results += measure_typical_size(directory, args.typical_workflows)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="aion-store-bench-", dir=args.dir) as directory:
        machine = machine_info(directory)
        print("machine: " + ", ".join(f"{k}={v}" for k, v in machine.items()), flush=True)
        results = run(args, directory)
    elapsed = time.perf_counter() - started
    print(f"\nstore benchmark: {args.events:,} bulk events, {elapsed:.0f} s")
    print("machine: " + ", ".join(f"{k}={v}" for k, v in machine.items()) + "\n")
    print(format_table(results))
    config = {k: str(v) for k, v in vars(args).items()} | {"seconds": round(elapsed, 1)}
    write_json(args.output, machine, config, results)
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
