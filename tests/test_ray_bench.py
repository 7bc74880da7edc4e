"""The Ray benchmark's yardsticks do what they claim: the floor makes the engine's hops and
commits, the CPU meter reads the actor's own process, the table shows what was measured.
Speeds are not asserted (they belong to the benchmark's output)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import ray

from benchmarks.ray_cpu import CpuMeter, actor_pid, ceiling
from benchmarks.ray_floor import Floor
from benchmarks.report import Result, format_table
from tests.local_ray import start_local_ray


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """The session's local cluster when one is up (the Ray tests'), else one for this module."""
    started = start_local_ray()
    yield
    if started:
        ray.shutdown()


@pytest.mark.ray
def test_the_floor_commits_before_and_after_each_step(local_ray: None, tmp_path: Path) -> None:
    floor = Floor(str(tmp_path / "floor.duckdb"))  # one warm-up chain: 1 Ray-task step
    task = floor.latencies(3, 1, True)
    eleven = floor.latencies(2, 11, False)
    commit = floor.latencies(2, 0, False)
    floor.close()
    assert [len(task.samples), len(eleven.samples)] == [3, 2]
    assert task.calls == {"host.run": 1, "store.commit": 2, "task": 1}
    assert eleven.calls == {"host.run": 1, "store.commit": 12}
    assert commit.calls == {"host.run": 1, "store.commit": 1}
    with duckdb.connect(str(tmp_path / "floor.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT count(*), count(DISTINCT run) FROM steps").fetchall()
    # Every run, warm-ups (5 per shape) included, left its commits in the file.
    assert rows == [(2 + 8 * 2 + 7 * 12 + 7 * 1, 1 + 8 + 7 + 7)]


@ray.remote(num_cpus=0)
class Spinner:
    async def spin(self, cpu_seconds: float) -> None:
        began = time.process_time()
        while time.process_time() - began < cpu_seconds:
            pass


@pytest.mark.ray
def test_the_cpu_meter_reads_the_named_actors_process(local_ray: None) -> None:
    namespace = "bench-cpu-meter"
    spinner = Spinner.options(name="spinner", namespace=namespace).remote()  # type: ignore[attr-defined]
    ray.get(spinner.spin.remote(0.0))
    meter = CpuMeter.start(["spinner"], namespace)
    ray.get(spinner.spin.remote(0.3))
    per_item = meter.per_item(3)["spinner"]
    assert meter.pids["spinner"] == actor_pid("spinner", namespace) != os.getpid()
    # ms per item. /proc counts CPU in sampled 10 ms ticks, which can fall short of the
    # 0.3 s the spinner's own clock counted (0.29 s seen on a busy machine).
    assert 0.2 / 3 * 1000 <= per_item < 2.0 / 3 * 1000
    assert ceiling(per_item) == pytest.approx(1000 / per_item)
    assert ceiling(0.0) == float("inf")
    ray.kill(spinner)


def test_the_table_shows_the_yardstick_columns_only_when_measured() -> None:
    plain = format_table([Result("a", "ms", 1.0, target=2.0)])
    header = ["measurement", "p50", "p90", "unit", "target", "ratio", "note"]
    assert plain.splitlines()[0].split() == header
    measured = format_table(
        [Result("a", "ms", 3.0, p99=5.0, x_floor=1.5, x_bare=12.0, target=2.0, note="n")]
    )
    top, _, row = measured.splitlines()
    assert top.split() == [
        "measurement", "p50", "p90", "p99", "unit", "x", "floor", "x", "bare", "target",
        "ratio", "note",
    ]  # fmt: skip
    assert row.split() == [
        "a", "3.000", "-", "5.000", "ms", "1.50x", "12.00x", "<", "2.000", "1.50", "MISS", "n",
    ]  # fmt: skip
