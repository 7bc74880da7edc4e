"""The floor of the engine's shape on Ray: the same hops and durable commits, no engine logic.

A run goes client -> host actor -> store actor (one commit) -> step -> store actor (one commit)
-> reply, and each added step adds its own commit, as the engine's workflows do (a one-step
workflow makes 2 durable appends, an N-step one N + 1). The step is a plain function call in
the host, or a Ray task the host submits and awaits. The store actor commits one small row to
a real DuckDB file per call, through an appender on one connection opened with the real
store's settings, from a writer thread the actor's event loop hands the commit to (as the
real store's group committer does). DuckDB syncs its write-ahead log at every COMMIT (one
fdatasync per commit, seen with strace), so a commit is durable when it is acknowledged.
Nothing here batches commits: under concurrency the floor pays one fsync per commit.

What the engine adds on top of this chain (routing, recording, replay, leases, encoding) is
what ``ray_bench`` reports as its ratio to the floor.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import duckdb
import ray

from benchmarks.report import percentile

MS = 1000.0
ROW = '{"activity_id":1,"attempt":1,"result":{"codec":"json","value":1}}'
"""About the size of an encoded step event."""
SETTINGS: dict[str, str | bool | int | float | list[str]] = {
    "checkpoint_threshold": "1TB",  # the real store checkpoints between groups, not at commit
    "threads": "1",
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
}
ACTOR_OPTIONS: dict[str, Any] = {"num_cpus": 0, "max_concurrency": 10_000}
"""As the engine's own actors are created."""


def local_step(x: int) -> int:
    return x + 1


@ray.remote(num_cpus=0, max_retries=0)
def task_step(x: int) -> int:
    return x + 1


@ray.remote
class FloorStore:
    """Commits one row per call to a DuckDB file, acknowledged after COMMIT."""

    def __init__(self, path: str) -> None:
        self._con = duckdb.connect(path, config=SETTINGS)
        self._con.execute("CREATE TABLE IF NOT EXISTS steps(run BIGINT, seq INTEGER, data VARCHAR)")
        self._appender = self._con.appender("steps")  # the real store's writes go the same way
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="floor-commit")
        self.commits = 0

    async def commit(self, run: int, seq: int) -> None:
        await asyncio.get_running_loop().run_in_executor(self._writer, self._commit, run, seq)
        self.commits += 1

    def _commit(self, run: int, seq: int) -> None:
        self._appender.append_rows([(run, seq, ROW)])
        self._appender.flush()  # one autocommitted statement: COMMIT, and the WAL's fdatasync

    async def stats(self) -> dict[str, int]:
        return {"store.commit": self.commits}

    async def close(self) -> None:
        """Close the file (a reader in another process may open it afterwards)."""
        await asyncio.get_running_loop().run_in_executor(self._writer, self._close)

    def _close(self) -> None:
        self._con.close()


@ray.remote
class FloorHost:
    """Runs a chain of ``steps`` steps, committing before the first and after each."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._runs = itertools.count()
        self.calls: collections.Counter[str] = collections.Counter()

    async def run(self, steps: int, task: bool) -> int:
        self.calls["host.run"] += 1
        run = next(self._runs)
        await self._store.commit.remote(run, 0)
        value = 0
        for seq in range(1, steps + 1):
            if task:
                self.calls["task"] += 1
                value = await task_step.remote(value)
            else:
                value = local_step(value)
            await self._store.commit.remote(run, seq)
        return value

    async def stats(self) -> dict[str, int]:
        return dict(self.calls)


@dataclass(frozen=True)
class FloorRun:
    """One measured floor shape: latencies in ms and the calls each run made."""

    samples: list[float]
    calls: dict[str, float]

    @property
    def p50(self) -> float:
        return percentile(self.samples, 0.5)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 0.99)

    def calls_note(self) -> str:
        total = sum(self.calls.values())
        detail = ", ".join(f"{k} {v:g}" for k, v in sorted(self.calls.items()))
        return f"{total:g} calls ({detail})"


class Floor:
    """A floor host and store actor pair over a DuckDB file at ``path``."""

    def __init__(self, path: str) -> None:
        self.store = FloorStore.options(**ACTOR_OPTIONS).remote(path)  # type: ignore[attr-defined]
        self.host = FloorHost.options(**ACTOR_OPTIONS).remote(self.store)  # type: ignore[attr-defined]
        ray.get(self.host.run.remote(1, True))

    def counts(self) -> collections.Counter[str]:
        seen: collections.Counter[str] = collections.Counter(ray.get(self.host.stats.remote()))
        seen.update(ray.get(self.store.stats.remote()))
        return seen

    def latencies(self, n: int, steps: int, task: bool) -> FloorRun:
        """``n`` timed runs (after 5 warm-ups) of a chain of ``steps`` steps."""
        once: Callable[[], object] = lambda: ray.get(self.host.run.remote(steps, task))  # noqa: E731
        for _ in range(5):
            once()
        before = self.counts()
        samples = []
        for _ in range(n):
            began = time.perf_counter()
            once()
            samples.append((time.perf_counter() - began) * MS)
        made = self.counts() - before
        return FloorRun(samples, {k: v / n for k, v in made.items()})

    async def burst(self, count: int) -> float:
        """``count`` one-step chains (local step) started at once: completed per second."""
        began = time.perf_counter()
        await asyncio.gather(*(self.host.run.remote(1, False) for _ in range(count)))
        return count / (time.perf_counter() - began)

    def close(self) -> None:
        ray.get(self.store.close.remote())
        ray.kill(self.host)
        ray.kill(self.store)
