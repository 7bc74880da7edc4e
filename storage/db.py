"""Small DuckDB helpers shared by the store's modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb


def first_row(
    con: duckdb.DuckDBPyConnection, query: str, params: Sequence[Any] = ()
) -> tuple[Any, ...] | None:
    """The first row of ``query`` or None; the result is always consumed to its end, as
    DuckDB requires before the connection runs anything else."""
    rows = con.execute(query, list(params)).fetchall()
    return rows[0] if rows else None
