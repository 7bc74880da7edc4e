"""list_workflows / count_workflows over the ``workflows`` table.

Type, status and time conditions run in SQL; search-attribute conditions are narrowed in SQL
(the key must exist) and decided by ``aion_ray.model.visibility.matches``, so both stores share one
definition of a match.
"""

from __future__ import annotations

from typing import Any

import duckdb

from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo, matches
from aion_ray.storage.duckdb.db import first_row
from aion_ray.storage.visibility_rows import filter_page, info_from_row


def _where(flt: WorkflowFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    simple = (
        ("workflow_type = ?", flt.workflow_type),
        ("started_at >= ?", flt.started_after),
        ("started_at <= ?", flt.started_before),
        ("closed_at >= ?", flt.closed_after),
        ("closed_at <= ?", flt.closed_before),
    )
    for clause, value in simple:
        if value is not None:
            clauses.append(clause)
            params.append(value)
    if flt.status is not None:
        clauses.append("list_contains(?, status)")
        params.append([status.value for status in flt.status])
    for key in flt.search_attributes:
        clauses.append("json_exists(search_attributes, ?)")
        escaped = key.replace("\\", "\\\\").replace('"', '\\"')
        params.append(f'$."{escaped}"')
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def list_workflows(cursor: duckdb.DuckDBPyConnection, flt: WorkflowFilter) -> list[WorkflowInfo]:
    where, params = _where(flt)
    query = f"SELECT * FROM workflows{where} ORDER BY started_at, workflow_id"
    if not flt.search_attributes:
        if flt.limit is not None:
            query += f" LIMIT {int(flt.limit)}"
        query += f" OFFSET {int(flt.offset)}"
        return [info_from_row(*row) for row in cursor.execute(query, params).fetchall()]
    infos = [info_from_row(*row) for row in cursor.execute(query, params).fetchall()]
    return filter_page([info for info in infos if matches(info, flt)], flt)


def count_workflows(cursor: duckdb.DuckDBPyConnection, flt: WorkflowFilter) -> int:
    where, params = _where(flt)
    if not flt.search_attributes:
        row = first_row(cursor, f"SELECT count(*) FROM workflows{where}", params)
        return int(row[0]) if row else 0
    rows = cursor.execute(f"SELECT * FROM workflows{where}", params).fetchall()
    return sum(1 for row in rows if matches(info_from_row(*row), flt))
