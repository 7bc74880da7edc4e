"""Same-sitting A/B: group-commit throughput (or the runtime) of a git ref against the working tree.

    python -m benchmarks.compare HEAD~1                  # 6 rounds, asyncio workflows
    python -m benchmarks.compare main --mode append --rounds 4
    python -m benchmarks.compare main --bench runtime    # replay and live-run overhead
    python -m benchmarks.compare main --bench ray        # the engine on Ray: one step, signal
    python -m benchmarks.compare HEAD~1 --against HEAD --bench ray   # two commits, no tree

The development VM's speed drifts by 2x within an hour, so numbers from different sittings do
not compare. This runs both versions in alternation, each run in a fresh process, and prints
each version's median: the ratio of the medians is what a change did. Each version is copied
into a temporary directory laid out as the installed package (``aion_ray`` with ``storage``
and ``actors`` inside) and put first on ``PYTHONPATH``; both run this working tree's
``benchmarks``, so a change to the benchmark itself cannot pass for a change in speed.
``--bench runtime`` is the exception: it times the runtime alone (replay of a 10,000-activity
history, and the overhead per live activity), whose module paths moved over time, so each
version runs its own ``benchmarks/runtime_bench.py`` (the timed loops are the same code).
``--bench ray`` starts a local Ray cluster per run (its workers inherit ``PYTHONPATH``) and
times a one-step workflow from start to result with a local and with a Ray-task activity
(p50, p99, and p50 over the floor of the same shape measured in the same run), the store's
time per append, and a signal to a resident workflow, beside a bare actor call of the same
run. ``--against REF`` compares two refs instead of a ref and
the working tree (where others' uncommitted changes would ride along).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE_RUN = """
import sys
from benchmarks.compare import throughput_run
print("events/s", round(throughput_run(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))))
"""


RUNTIME_RUN = """
import statistics
from benchmarks.runtime_bench import recorded_history, time_live, time_replay
history = recorded_history(10_000)
print("replay-s", statistics.median(time_replay(history, 3)))
print("live-us", statistics.median(time_live(2_000, 3)) * 1e6)
"""


def throughput_run(mode: str, batch: int, events: int) -> float:
    """Events/s of 100 workflows appending ``events`` events each, ``batch`` per append, with
    whichever aion_ray comes first on ``sys.path``. Uses only the store's public API, which
    every version compared has."""
    from aion_ray.storage import DuckDBHistoryStore
    from benchmarks.store_workloads import DRIVERS, started_workflows

    with tempfile.TemporaryDirectory(prefix="aion-compare-run-") as directory:
        store = DuckDBHistoryStore(Path(directory) / "group.duckdb")
        try:
            plans, leases = started_workflows(store, 100, batch, events)
            run = DRIVERS[mode](store, plans, leases)
        finally:
            store.close()
    return run.events / run.seconds


RAY_RUN = """
import statistics, tempfile
import ray
import aion_ray as aion
from benchmarks import ray_engine
from benchmarks.ray_floor import Floor
from benchmarks.report import percentile
# Inline, not ray_engine's helper: this script runs in older checkouts too.
ray.init(
    address="local", num_cpus=2, namespace="aion-compare", log_to_driver=False,
    include_dashboard=False,
)
bare = statistics.median(ray_engine.bare_call_ms(200))
floor = Floor(tempfile.mkdtemp() + "/floor.duckdb")
floor_local, floor_task = floor.latencies(100, 1, False).p50, floor.latencies(100, 1, True).p50
floor.close()
client = aion.connect(store_path=tempfile.mkdtemp() + "/a.duckdb", namespace="compare")
before = ray_engine.calls(client)
one, _ = ray_engine.timed(client, 100, ray_engine.one_workflow(client, (1, True)))
made = ray_engine.calls(client) - before
task, _ = ray_engine.timed(client, 100, ray_engine.one_workflow(client, (1, False)))
signal, _ = ray_engine.resident_signals(client, 100)
print("one-step-ms", statistics.median(one))
print("one-step-p99-ms", percentile(one, 0.99))
print("one-step-task-ms", statistics.median(task))
print("one-step-task-p99-ms", percentile(task, 0.99))
print("one-step-x-floor", statistics.median(one) / floor_local)
print("one-step-task-x-floor", statistics.median(task) / floor_task)
print("store-append-ms", made["store.append_us"] / made["store.appends"] / 1000)
print("signal-ms", statistics.median(signal))
print("bare-ms", bare)
client.shutdown()
ray.shutdown()
"""
MEASURES = (
    "events/s",
    "replay-s",
    "live-us",
    "one-step-ms",
    "one-step-p99-ms",
    "one-step-task-ms",
    "one-step-task-p99-ms",
    "one-step-x-floor",
    "one-step-task-x-floor",
    "store-append-ms",
    "signal-ms",
    "bare-ms",
)


def package_copy(source: Path, target: Path, *, own_benchmarks: bool = False) -> Path:
    """Lay ``source`` (a checkout) out in ``target`` as the installed package is laid out,
    with the working tree's benchmark code (only the product code differs between versions),
    or with ``source``'s own when ``own_benchmarks``."""
    layout = {"aion_ray": "aion_ray", "storage": "aion_ray/storage", "actors": "aion_ray/actors"}
    missing = [folder for folder in layout if not (source / folder).is_dir()]
    if missing:
        raise SystemExit(f"{source} lacks {', '.join(missing)}: not this project's layout")
    for folder, destination in layout.items():
        shutil.copytree(source / folder, target / destination)
    shutil.copytree((source if own_benchmarks else ROOT) / "benchmarks", target / "benchmarks")
    return target


def checkout(ref: str, target: Path) -> Path:
    """The tree of ``ref`` (a commit, branch or tag of this repository) under ``target``."""
    done = subprocess.run(["git", "-C", str(ROOT), "archive", ref], capture_output=True)
    if done.returncode:
        raise SystemExit(f"cannot read {ref!r} from git: {done.stderr.decode().strip()}")
    archive = done.stdout
    target.mkdir()
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def one_run(tree: Path, args: argparse.Namespace) -> dict[str, float]:
    """The numbers of one run of ``tree`` (events/s, or replay and live timings), in a fresh
    interpreter."""
    if args.bench == "runtime":
        command = [sys.executable, "-c", RUNTIME_RUN]
    elif args.bench == "ray":
        command = [sys.executable, "-c", RAY_RUN]
    else:
        command = [sys.executable, "-c", ONE_RUN, args.mode, str(args.batch), str(args.events)]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(command, env=env, cwd=tree, capture_output=True, text=True)
    numbers = {}
    for line in done.stdout.splitlines():
        name, _, value = line.partition(" ")
        if name in MEASURES:
            numbers[name] = float(value)
    if done.returncode or not numbers:
        raise RuntimeError(f"run of {tree} failed:\n{done.stderr[-2000:]}")
    return numbers


Runs = dict[str, dict[str, list[float]]]
"""version -> measure -> one value per round."""


def compare(trees: dict[str, Path], args: argparse.Namespace) -> Runs:
    """Alternate the versions ``args.rounds`` times (reversing the order every other round,
    so neither always runs first); return each version's numbers."""
    runs: Runs = {name: {} for name in trees}
    names = list(trees)
    for round_number in range(args.rounds):
        for name in names if round_number % 2 == 0 else names[::-1]:
            numbers = one_run(trees[name], args)
            for measure, value in numbers.items():
                runs[name].setdefault(measure, []).append(value)
            shown = ", ".join(f"{value:,.3f} {measure}" for measure, value in numbers.items())
            print(f"round {round_number + 1}: {name} {shown}", flush=True)
    return runs


def report(runs: Runs, args: argparse.Namespace) -> None:
    what = {"runtime": "runtime", "ray": "engine on Ray"}.get(args.bench)
    what = what or f"{args.mode}, 100 workflows, {args.batch} events per append"
    print(f"\n{what}, medians:")
    for measure in runs[args.against or "working tree"]:
        medians = {name: statistics.median(values[measure]) for name, values in runs.items()}
        for name, median in medians.items():
            rounded = [round(v, 3) for v in runs[name][measure]]
            print(f"  {name:>12}: {median:>11,.3f} {measure}  {rounded}")
        other = args.against or "working tree"
        base, work = medians[args.ref], medians[other]
        print(f"  {other} / {args.ref}: {work / base:.2f}x ({measure})")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("ref", help="git ref to compare the working tree with, e.g. HEAD")
    parser.add_argument("--rounds", type=int, default=6, help="runs of each version")
    parser.add_argument(
        "--against",
        default=None,
        help="a second git ref in place of the working tree (others' uncommitted work stays out)",
    )
    parser.add_argument("--bench", choices=("group", "runtime", "ray"), default="group")
    parser.add_argument("--mode", choices=("append", "append_async"), default="append_async")
    parser.add_argument("--batch", type=int, default=10, help="events per append")
    parser.add_argument("--events", type=int, default=1200, help="events per workflow")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.batch < 1 or args.events < args.batch:
        parser.error("--rounds and --batch must be >= 1, and --events >= --batch")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="aion-compare-") as scratch:
        base = checkout(args.ref, Path(scratch) / "ref")
        own = args.bench == "runtime"
        other = ROOT if args.against is None else checkout(args.against, Path(scratch) / "ref2")
        trees = {
            args.ref: package_copy(base, Path(scratch) / "a", own_benchmarks=own),
            args.against or "working tree": package_copy(
                other, Path(scratch) / "b", own_benchmarks=own
            ),
        }
        report(compare(trees, args), args)


if __name__ == "__main__":
    main()
