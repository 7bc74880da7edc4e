"""Group commit: many callers' requests become one DuckDB transaction.

A caller that finds the writer idle commits inline (no thread hand-off, which costs more than
a small commit). Otherwise it queues its request and waits: a background committer thread
drains the queue into one group per transaction, so under load one COMMIT serves everyone who
queued while the previous one ran. Each request is checked on its own (one bad append fails
alone); futures resolve only after COMMIT returned, so an acknowledged append is durable.
Checkpoints and the trailing rows (``trail``) are written by the committer thread between
groups, preferably when nobody is waiting, so they never stall a commit at random.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import duckdb

from aion_ray.errors import AionError, StoreError
from aion_ray.storage.duckdb.group import Group, Staged
from aion_ray.storage.duckdb.replies import Replies, Reply
from aion_ray.storage.duckdb.trail import Trail

logger = logging.getLogger(__name__)


Stage = Callable[[Group], Staged | None]
"""A unit of write work: adds itself to a group and returns what its caller gets."""


@dataclass(slots=True)
class Request:
    """Write work waiting for the next group, and where its outcome goes."""

    stage: Stage
    reply: Reply


@dataclass
class WriterStats:
    """Where the writer's time went since the store opened: the writer is the store's one
    serial resource, so these show what bounds its throughput."""

    groups: int = 0
    requests: int = 0
    staging_seconds: float = 0.0
    """Checking requests against the guard and encoding their rows."""
    writing_seconds: float = 0.0
    """Buffering rows and running the DuckDB statements up to COMMIT."""
    replying_seconds: float = 0.0
    """Updating the caches and resolving callers after COMMIT."""


class GroupCommitter:
    """Serialises every write of the store through one read-write connection."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        wal_path: str,
        *,
        make_group: Callable[[], Group],
        trail: Trail,
        last_committed: int = 0,
        checkpoint_soft_bytes: int = 16 << 20,
        checkpoint_hard_bytes: int = 256 << 20,
    ) -> None:
        self._con = con
        self._wal_path = wal_path
        self._make_group = make_group
        self._trail = trail
        self._soft = checkpoint_soft_bytes
        self._hard = checkpoint_hard_bytes
        self._pending: collections.deque[Request] = collections.deque()
        self._write_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self.groups_committed = 0
        self.stats = WriterStats()
        self.last_committed = last_committed
        self._thread = threading.Thread(target=self._run, name="aion-group-commit", daemon=True)
        self._thread.start()

    def submit(self, stage: Stage) -> Any:
        """Commit ``stage`` (with whatever else is pending); return or raise its outcome."""
        future: Future[Any] = Future()
        self._pending.append(Request(stage, Reply(future=future)))
        self._fail_if_closed_meanwhile()
        if self._write_lock.acquire(blocking=False):
            try:
                self._check_open()
                self._commit_pending()
            finally:
                self._write_lock.release()
        if self._pending or not future.done() or self._trail.pending:
            self._wake.set()
        return future.result()

    async def submit_async(self, stage: Stage) -> Any:
        """Like ``submit``, for an asyncio caller: the committer thread does the writing, so
        the event loop never blocks and many appends share each commit."""
        if self._closed:
            raise StoreError("the history store is closed")
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append(Request(stage, Reply(loop=waiter.get_loop(), waiter=waiter)))
        self._fail_if_closed_meanwhile()
        if not self._wake.is_set():  # still set: the writer has yet to clear it and drain
            self._wake.set()
        return await waiter

    def _run(self) -> None:
        while not self._closed:
            woken = self._wake.wait(timeout=self._trail.idle if self._trail.pending else 1.0)
            self._wake.clear()
            with self._write_lock:
                if self._closed:
                    return
                try:
                    if self._pending:
                        self._commit_pending()
                    if self._trail.due(idle=not woken and not self._pending):
                        self._write_trail_logged()
                    self._maybe_checkpoint()
                except Exception:  # never let the committer die: callers would hang forever
                    logger.exception("group commit failed unexpectedly")

    def flush_trail(self) -> None:
        """Write the trailing rows now (a reader about to show them calls this)."""
        if self._trail.pending:
            self.run_exclusive(lambda _: self._trail.write())

    def _write_trail_logged(self) -> None:
        try:
            self._trail.write()
        except Exception:  # kept for the next try; readers that need it raise themselves
            logger.exception("writing the trailing visibility and lifecycle rows failed")

    def run_exclusive(self, work: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
        """Run ``work`` with the write connection while no group is being committed."""
        with self._write_lock:
            self._check_open()
            return work(self._con)

    def close(self) -> None:
        with self._write_lock:
            self._closed = True
            self._fail_pending()
            if self._trail.pending:
                self._write_trail_logged()
        self._wake.set()
        self._thread.join()

    def _commit_pending(self) -> None:
        started = time.perf_counter()
        batch: list[Request] = []
        while self._pending:
            batch.append(self._pending.popleft())
        group = self._make_group()
        replies = Replies()
        try:
            staged, writing = self._stage_and_write(group, batch, replies)
        except BaseException as exc:
            # A bug, MemoryError or an interrupt in an inline caller: the cached state may be
            # half-updated and nobody may be left waiting forever. If it struck after COMMIT
            # the appends are stored, and a retry of them is recognised as such.
            group.abandon()
            error = StoreError(f"the writer failed, the outcome is unknown: {exc!r}")
            for request in batch:
                if not request.reply.answered:
                    replies.add(request.reply, error=error)
            raise
        finally:
            replies.send()
        stats = self.stats
        stats.groups += 1
        stats.requests += len(batch)
        stats.staging_seconds += staged - started
        stats.writing_seconds += writing
        stats.replying_seconds += time.perf_counter() - staged - writing

    def _stage_and_write(
        self, group: Group, batch: list[Request], replies: Replies
    ) -> tuple[float, float]:
        """Stage every request, write the accepted ones; return when staging ended and the
        seconds spent writing."""
        accepted: list[tuple[Request, Staged | None]] = []
        for request in batch:
            try:
                accepted.append((request, request.stage(group)))
            except AionError as exc:
                replies.add(request.reply, error=exc)
            except Exception as exc:  # a bug or a corrupt row: fail this request only
                error = StoreError(f"request could not be checked: {exc!r}")
                replies.add(request.reply, error=error)
        staged = time.perf_counter()
        return staged, self._write(group, accepted, replies) if accepted else 0.0

    def _write(
        self, group: Group, accepted: list[tuple[Request, Staged | None]], replies: Replies
    ) -> float:
        """Write ``group`` and queue its replies; return the seconds spent writing."""
        started = time.perf_counter()
        try:
            group.write()
        except Exception as exc:
            group.abandon()
            error = StoreError(f"commit failed, nothing was written: {exc}")
            for request, _ in accepted:
                replies.add(request.reply, error=error)
            return time.perf_counter() - started
        written = time.perf_counter() - started
        self.groups_committed += 1
        if group.has_events:
            self.last_committed = group.commit_id  # before anything else can fail
        group.publish()
        for request, staged in accepted:
            replies.add(request.reply, result=staged.result if staged else None)
        return written

    def _maybe_checkpoint(self) -> None:
        wal = _size(self._wal_path)
        if wal > self._hard or (wal > self._soft and not self._pending):
            self._con.execute("CHECKPOINT")

    def _check_open(self) -> None:
        if self._closed:
            self._fail_pending()
            raise StoreError("the history store is closed")

    def _fail_if_closed_meanwhile(self) -> None:
        # close() sets _closed before it fails what is pending: a request queued after that
        # would wait forever for a writer that is gone, so its caller fails it here.
        if self._closed:
            self._fail_pending()

    def _fail_pending(self) -> None:
        replies = Replies()
        while self._pending:
            request = self._pending.popleft()
            replies.add(request.reply, error=StoreError("the history store is closed"))
        replies.send()


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
