"""The store's reads: each reading thread has a cursor of its own over the write connection
(DuckDB refuses, rather than waits, when two threads use one connection at once), and the
store's ``close`` waits for the reads under way instead of closing connections under them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import duckdb

from aion_ray.errors import StoreError

T = TypeVar("T")
log = logging.getLogger(__name__)

CLOSE_WAIT = 10.0
"""Seconds ``close`` waits for interrupted reads to leave before closing their cursors."""

Read = Callable[[duckdb.DuckDBPyConnection], T]


def closed_error() -> StoreError:
    return StoreError("the history store is closed")


class Readers:
    """Runs reads on per-thread cursors of ``con``; see the module docstring."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._state = threading.Condition()
        self._reading = 0
        self._closed = False

    def run(self, read: Read[T]) -> T:
        """``read(cursor)`` on this thread's cursor. StoreError if the store is closed, or
        closes while the read runs (it is interrupted)."""
        cursor = self._enter()
        try:
            return read(cursor)
        except Exception as exc:  # DuckDB's, Arrow's or the runner's word for "interrupted"
            if self._closed:
                raise closed_error() from exc
            raise
        finally:
            with self._state:
                self._reading -= 1
                self._state.notify_all()

    def close(self, wait: float = CLOSE_WAIT) -> None:
        """Refuse new reads, interrupt the ones under way, wait (up to ``wait`` seconds) for
        them to leave, and close every cursor. The write connection stays open."""
        with self._state:
            self._closed = True
            if self._reading:
                for cursor in self._cursors:
                    cursor.interrupt()
            if not self._state.wait_for(lambda: self._reading == 0, timeout=wait):
                log.warning("%d reads still running as the store closes", self._reading)
            for cursor in self._cursors:
                try:
                    cursor.close()
                except duckdb.Error:  # a read that would not stop: its thread fails
                    log.warning("a read cursor did not close", exc_info=True)
            self._cursors.clear()

    def _enter(self) -> duckdb.DuckDBPyConnection:
        with self._state:
            if self._closed:
                raise closed_error()
            cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
            if cursor is None:
                cursor = self._con.cursor()
                self._cursors.append(cursor)
                self._local.cursor = cursor
            self._reading += 1
            return cursor
