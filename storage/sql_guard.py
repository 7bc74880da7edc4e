"""Read-only SQL: one query and nothing else, checked before it runs.

Writes, ATTACH, COPY, INSTALL, LOAD, PRAGMA, SET, CALL, transactions and stacked statements
are refused with SqlRefusedError. The query then runs inside a transaction that is rolled
back, so even a function with a side effect could not leave a change behind.
"""

from __future__ import annotations

import re

import duckdb
import pyarrow as pa

from aion_ray.errors import SqlRefusedError

_ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
_EXPLAIN = re.compile(r"\s*explain\s+(?:analy[sz]e\s+)?(.+)", re.IGNORECASE | re.DOTALL)


def check_read_only(con: duckdb.DuckDBPyConnection, query: object) -> str:
    """Return ``query`` if it is exactly one read-only statement; raise SqlRefusedError."""
    if not isinstance(query, str):
        raise SqlRefusedError(repr(query), f"a query must be a str, got {type(query).__name__}")
    try:
        statements = con.extract_statements(query)
    except duckdb.Error as exc:
        raise SqlRefusedError(query, f"it does not parse: {exc}") from exc
    if len(statements) != 1:
        raise SqlRefusedError(query, f"exactly one statement is allowed, found {len(statements)}")
    kind = statements[0].type
    if kind not in _ALLOWED:
        name = str(kind).rsplit(".", 1)[-1]
        raise SqlRefusedError(query, f"{name} statements are not allowed; only queries are")
    if kind == duckdb.StatementType.EXPLAIN:
        _check_explained(con, query)
    return query


def _check_explained(con: duckdb.DuckDBPyConnection, query: str) -> None:
    # EXPLAIN ANALYZE runs the statement it explains, so that statement must be a query too.
    match = _EXPLAIN.match(query)
    if match is None:
        raise SqlRefusedError(query, "EXPLAIN must be followed by the query it explains")
    explained = match.group(1)
    kind = con.extract_statements(explained)[0].type
    if kind != duckdb.StatementType.SELECT:
        raise SqlRefusedError(query, "only a query can be explained")


def run_read_only(con: duckdb.DuckDBPyConnection, query: object) -> pa.Table:
    """Check ``query``, then run it on ``con`` in a transaction that is always rolled back."""
    checked = check_read_only(con, query)
    con.execute("BEGIN TRANSACTION")
    try:
        table: pa.Table = con.sql(checked).to_arrow_table()
        return table
    except duckdb.Error as exc:
        raise SqlRefusedError(checked, f"it failed: {exc}") from exc
    finally:
        con.execute("ROLLBACK")
