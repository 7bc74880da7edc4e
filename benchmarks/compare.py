"""Same-sitting A/B: group-commit throughput of a git ref against the working tree.

    python -m benchmarks.compare HEAD~1                  # 6 rounds, asyncio workflows
    python -m benchmarks.compare main --mode append --rounds 4

The development VM's speed drifts by 2x within an hour, so numbers from different sittings do
not compare. This runs both versions in alternation, each run in a fresh process, and prints
each version's median: the ratio of the medians is what a change did. Each version is copied
into a temporary directory laid out as the installed package (``aion_ray`` with ``storage``
and ``actors`` inside, plus ``benchmarks``), and put first on ``PYTHONPATH``.
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
import sys, tempfile
from benchmarks.store_bench import group_commit_run
with tempfile.TemporaryDirectory() as directory:
    run = group_commit_run(directory, 100, int(sys.argv[2]), int(sys.argv[3]), sys.argv[1])
print("events/s", round(run.events_per_second), round(run.events_per_group))
"""


def package_copy(source: Path, target: Path) -> Path:
    """Lay ``source`` (a checkout) out in ``target`` as the installed package is laid out."""
    shutil.copytree(source / "aion_ray", target / "aion_ray")
    shutil.copytree(source / "storage", target / "aion_ray" / "storage")
    shutil.copytree(source / "actors", target / "aion_ray" / "actors")
    shutil.copytree(source / "benchmarks", target / "benchmarks")
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


def one_run(tree: Path, args: argparse.Namespace) -> float:
    """Events/s of one group-commit run of ``tree``, in a fresh interpreter."""
    command = [sys.executable, "-c", ONE_RUN, args.mode, str(args.batch), str(args.events)]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(command, env=env, cwd=tree, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("events/s")]
    if done.returncode or not lines:
        raise RuntimeError(f"run of {tree} failed:\n{done.stderr[-2000:]}")
    return float(lines[-1].split()[1])


def compare(trees: dict[str, Path], args: argparse.Namespace) -> dict[str, list[float]]:
    """Alternate the versions ``args.rounds`` times (reversing the order every other round,
    so neither always runs first); return each version's events/s."""
    rates: dict[str, list[float]] = {name: [] for name in trees}
    names = list(trees)
    for round_number in range(args.rounds):
        for name in names if round_number % 2 == 0 else names[::-1]:
            rates[name].append(one_run(trees[name], args))
            print(f"round {round_number + 1}: {name} {rates[name][-1]:,.0f} events/s", flush=True)
    return rates


def report(rates: dict[str, list[float]], args: argparse.Namespace) -> None:
    medians = {name: statistics.median(values) for name, values in rates.items()}
    print(f"\n{args.mode}, 100 workflows, {args.batch} events per append, medians:")
    for name, median in medians.items():
        print(f"  {name:>12}: {median:>9,.0f} events/s  {[round(v) for v in rates[name]]}")
    base, work = medians[args.ref], medians["working tree"]
    print(f"  working tree / {args.ref}: {work / base:.2f}x")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("ref", help="git ref to compare the working tree with, e.g. HEAD")
    parser.add_argument("--rounds", type=int, default=6, help="runs of each version")
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
        trees = {
            args.ref: package_copy(base, Path(scratch) / "a"),
            "working tree": package_copy(ROOT, Path(scratch) / "b"),
        }
        report(compare(trees, args), args)


if __name__ == "__main__":
    main()
