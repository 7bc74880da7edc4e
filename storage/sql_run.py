"""Running user SQL within limits: a read-only transaction, a time bound, a result bound.

A query that passed ``sql_guard`` runs in a READ ONLY transaction that is always rolled
back, so a write that got past the check still fails. A watchdog interrupts it once it has
run ``SqlLimits.timeout`` seconds, and its result is read in batches and given up once it
passes ``SqlLimits.result_bytes``; either raises SqlLimitError, as does DuckDB running out of
the memory it may use. The store's connection runs appends on its own cursor meanwhile.
"""

from __future__ import annotations

import threading

import duckdb
import pyarrow as pa

from aion_ray.errors import SqlLimitError, SqlRefusedError
from aion_ray.storage.contract import SqlLimits
from aion_ray.storage.sql_guard import check_read_only

BATCH_ROWS = 65_536


class _Watchdog:
    """Interrupts ``con`` once ``seconds`` have passed, unless the query ended first."""

    def __init__(self, con: duckdb.DuckDBPyConnection, seconds: float) -> None:
        self._con = con
        self._lock = threading.Lock()
        self._running = True
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        with self._lock:  # never interrupts whatever ``con`` runs after this query
            if self._running:
                self.fired = True
                self._con.interrupt()

    def stop(self) -> None:
        with self._lock:
            self._running = False
        self._timer.cancel()


class SqlRunner:
    """Runs user SQL within ``limits``; ``running`` counts the queries that run now and
    ``stopped`` those stopped at a limit (thread-safe)."""

    def __init__(self, limits: SqlLimits | None = None) -> None:
        self.limits = limits or SqlLimits()
        self.running = 0
        self.stopped = 0
        self._lock = threading.Lock()

    def run(self, con: duckdb.DuckDBPyConnection, query: object) -> pa.Table:
        """Check ``query``, then run it on ``con`` in a read-only transaction that is always
        rolled back; the result as a pyarrow Table."""
        checked = check_read_only(con, query)
        con.execute("BEGIN TRANSACTION READ ONLY")
        watchdog = _Watchdog(con, self.limits.timeout)
        self._count(running=1)
        try:
            return _read(con, checked, self.limits)
        except SqlLimitError:
            self._count(stopped=1)
            raise
        except duckdb.Error as exc:
            error = _error(checked, exc, self.limits, watchdog.fired)
            self._count(stopped=int(isinstance(error, SqlLimitError)))
            raise error from exc
        finally:
            watchdog.stop()
            self._count(running=-1)
            con.execute("ROLLBACK")

    def _count(self, *, running: int = 0, stopped: int = 0) -> None:
        with self._lock:
            self.running += running
            self.stopped += stopped


def run_read_only(
    con: duckdb.DuckDBPyConnection, query: object, limits: SqlLimits | None = None
) -> pa.Table:
    """Check ``query`` and run it on ``con`` within ``limits`` (see ``SqlRunner.run``)."""
    return SqlRunner(limits).run(con, query)


def _error(query: str, exc: duckdb.Error, limits: SqlLimits, timed_out: bool) -> SqlRefusedError:
    """The typed error for a query DuckDB stopped."""
    if isinstance(exc, duckdb.InterruptException) and timed_out:
        return SqlLimitError(query, "time", f"it ran longer than {limits.timeout:g} s")
    if isinstance(exc, duckdb.OutOfMemoryException):
        reason = f"it needed more memory than the store allows: {exc}"
        return SqlLimitError(query, "memory", reason)
    return SqlRefusedError(query, f"it failed: {exc}")


def _read(con: duckdb.DuckDBPyConnection, query: str, limits: SqlLimits) -> pa.Table:
    reader = con.sql(query).to_arrow_reader(BATCH_ROWS)
    batches, size = [], 0
    with reader:  # closed even when given up: the connection then runs the ROLLBACK
        for batch in reader:
            size += batch.nbytes
            if size > limits.result_bytes:
                reason = f"its result passed {limits.result_bytes} bytes; aggregate or LIMIT it"
                raise SqlLimitError(query, "result", reason)
            batches.append(batch)
    return pa.Table.from_batches(batches, schema=reader.schema)
