"""Timestamps along a workflow's path through the engine's processes, for ``ray_breakdown``.

``install`` runs in every Ray worker (the job's ``worker_process_setup_hook``) when the
``MARKS_ENV`` variable names a directory: it wraps a few engine methods so that each call
writes ``workflow id, label, wall-clock ns`` lines to a file of its process. Wall-clock time
(``time.time_ns``) is what makes the processes' lines comparable: they share one machine's
clock, where ``perf_counter`` counts from an origin of each process. The wrappers only
observe (they call the real method and return what it returns), and a label seen again for
the same workflow gets the next number (``store: append in #2``).
"""

from __future__ import annotations

import collections
import functools
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

MARKS_ENV = "AION_BREAKDOWN_DIR"
"""The directory the processes write their marks to (unset: nothing is installed)."""

Ids = Callable[[tuple[Any, ...]], Iterable[str]]
"""The workflow ids a wrapped call concerns, from its positional arguments (self first)."""


class Marks:
    """This process's mark file; thread-safe (the store's writer thread marks too)."""

    def __init__(self, directory: Path) -> None:
        self._file = open(directory / f"{os.getpid()}.marks", "a", buffering=1)  # noqa: SIM115
        self._lock = threading.Lock()
        self._seen: collections.Counter[tuple[str, str]] = collections.Counter()

    def mark(self, workflow_ids: Iterable[str], label: str) -> None:
        at = time.time_ns()
        with self._lock:
            for workflow_id in workflow_ids:
                self._seen[workflow_id, label] += 1
                self._file.write(
                    f"{workflow_id}\t{label} #{self._seen[workflow_id, label]}\t{at}\n"
                )

    def close(self) -> None:
        """(A worker's marks stay open while it lives: every line is written at once.)"""
        self._file.close()


def read(directory: Path) -> dict[str, dict[str, int]]:
    """Every process's marks: workflow id -> label -> wall-clock ns."""
    marks: dict[str, dict[str, int]] = collections.defaultdict(dict)
    for path in directory.glob("*.marks"):
        for line in path.read_text().splitlines():
            workflow_id, label, at = line.split("\t")
            marks[workflow_id][label] = int(at)
    return dict(marks)


def _wrap_async(owner: type, name: str, ids: Ids, before: str, after: str, marks: Marks) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        concerned = list(ids(args))
        marks.mark(concerned, before)
        try:
            return await original(*args, **kwargs)
        finally:
            marks.mark(concerned, after)

    setattr(owner, name, wrapper)


def _wrap_sync(
    owner: type, name: str, ids: Ids, before: str, after: str | None, marks: Marks
) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        concerned = list(ids(args))
        marks.mark(concerned, before)
        try:
            return original(*args, **kwargs)
        finally:
            if after is not None:
                marks.mark(concerned, after)

    setattr(owner, name, wrapper)


def _requests(args: tuple[Any, ...]) -> list[str]:
    return [request.workflow_id for request in args[1]]


def install() -> None:
    """Wrap the engine's methods on the one-step path (a no-op unless ``MARKS_ENV`` is set)."""
    directory = os.environ.get(MARKS_ENV)
    if not directory:
        return
    from aion_ray.engine.async_host import AsyncHost
    from aion_ray.engine.async_pump import AsyncPump
    from aion_ray.engine.attempts import Attempts
    from aion_ray.engine.results import ResultWaits
    from aion_ray.storage.duckdb.store import DuckDBHistoryStore

    marks = Marks(Path(directory))
    start: Ids = lambda args: [args[1].workflow_id]  # noqa: E731
    first: Ids = lambda args: [args[1]]  # noqa: E731
    driver: Ids = lambda args: [args[1].workflow_id]  # noqa: E731
    closures: Ids = lambda args: [closure.workflow_id for closure in args[1]]  # noqa: E731
    _wrap_async(AsyncHost, "start_new", start, "host: start in", "host: start out", marks)
    _wrap_async(AsyncPump, "_append", _requests, "host: append sent", "host: append acked", marks)
    _wrap_async(
        DuckDBHistoryStore, "append_batch_async", _requests, "store: in", "store: out", marks
    )
    _install_writer(marks)
    _wrap_async(Attempts, "_run", driver, "host: activity sent", "host: activity back", marks)
    _wrap_sync(ResultWaits, "closed", closures, "host: end to waiters", None, marks)
    _wrap_async(ResultWaits, "wait", first, "host: result in", "host: result out", marks)


def install_client(directory: Path) -> None:
    """The driver's side: when the start leaves for its host (after the router's pick)."""
    from aion_ray.actors.stubs import HostStub

    marks = Marks(directory)
    specs: Ids = lambda args: [spec.workflow_id for spec in args[1]]  # noqa: E731
    _wrap_sync(HostStub, "start", specs, "client: start to host", None, marks)


def _install_writer(marks: Marks) -> None:
    """The store's writer thread: staging, each kind of rows written, and the commit. A group
    holds the requests staged since the last one was written (one writer thread)."""
    from aion_ray.storage.duckdb.appenders import Appenders
    from aion_ray.storage.duckdb.group import Group

    group: list[str] = []

    def staging(args: tuple[Any, ...]) -> list[str]:
        ids = _requests(args)
        group.extend(ids)
        return ids

    def written(args: tuple[Any, ...]) -> list[str]:
        ids = list(group)
        group.clear()
        return ids

    _wrap_sync(Group, "stage_batch", staging, "store: staging (writer)", "store: staged", marks)
    _wrap_sync(Group, "write", lambda args: list(group), "store: writing", None, marks)
    original = Appenders._write

    def write(self: Any, kind: str) -> None:
        original(self, kind)
        marks.mark(group, f"store: wrote {kind}")

    Appenders._write = write  # type: ignore[method-assign]
    _wrap_sync(Group, "publish", written, "store: committed", None, marks)
