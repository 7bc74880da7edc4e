"""Read-only SQL: one query over the store's own tables and nothing else, checked before it
runs.

Writes, ATTACH, COPY, INSTALL, LOAD, PRAGMA, SET, CALL, transactions and stacked statements
are refused by statement type. The one query left is then read as DuckDB's own parse tree
(``json_serialize_sql``), so what hides inside it is refused too: a write in a CTE, a table
that is not the connection's own (a file path, a URL, ``pg_catalog`` and other system
schemas), a table function other than a few generators (``read_text``, ``read_csv``,
``glob``, ``duckdb_settings``, ``query``, ``checkpoint``...) and the scalar functions that
read the configuration or write the log. Everything is refused with SqlRefusedError naming
what was refused. The connections that run user SQL also forbid file access and lock their
configuration (``CONNECTION_SETTINGS``), and ``sql_run`` runs the query in a read-only
transaction: the check is the first of three fences, and the one that explains itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import duckdb

from aion_ray.errors import SqlRefusedError

CONNECTION_SETTINGS: dict[str, str | bool | int | float | list[str]] = {
    # No file, URL or directory can be read or listed by a query; the store's own file and
    # its WAL and spill files are not affected (checked: appends, rebuilds, exports, reopen).
    "enable_external_access": "false",
    # Nothing can turn the setting above (or a limit) back: SET is refused, and so is a
    # function that would change a setting.
    "lock_configuration": "true",
}
"""DuckDB settings of every connection that runs user SQL, given when it is opened."""

TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest", "json_each", "json_tree"})
"""The table functions a query may call: generators over values, never over files or state."""

SCALAR_FUNCTIONS_REFUSED = frozenset({"current_setting", "getvariable", "write_log"})
"""Scalar functions that read the configuration or write the log."""

_ALLOWED = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
_EXPLAIN = re.compile(r"\s*explain\s+(?:analy[sz]e\s+)?(.+)", re.IGNORECASE | re.DOTALL)
_WRITES = re.compile(r"(INSERT|UPDATE|DELETE|MERGE)")
_OWN_TABLES = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"


def check_read_only(con: duckdb.DuckDBPyConnection, query: object) -> str:
    """Return ``query`` if it is exactly one read-only query over ``con``'s own tables;
    raise SqlRefusedError naming what is refused."""
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
    checked = _explained(con, query) if kind == duckdb.StatementType.EXPLAIN else query
    _check_tree(con, query, _parse_tree(con, query, checked))
    return query


def _explained(con: duckdb.DuckDBPyConnection, query: str) -> str:
    # EXPLAIN ANALYZE runs the statement it explains, so that statement must be a query too.
    match = _EXPLAIN.match(query)
    if match is None:
        raise SqlRefusedError(query, "EXPLAIN must be followed by the query it explains")
    explained = match.group(1)
    kind = con.extract_statements(explained)[0].type
    if kind != duckdb.StatementType.SELECT:
        raise SqlRefusedError(query, "only a query can be explained")
    return explained


def _parse_tree(con: duckdb.DuckDBPyConnection, query: str, checked: str) -> Any:
    row = con.execute("SELECT json_serialize_sql(?)", [checked]).fetchall()[0]
    tree = json.loads(row[0])
    if tree.get("error"):  # PIVOT and the like: a query form that cannot be looked into
        reason = tree.get("error_message", "")
        raise SqlRefusedError(query, f"this form of query cannot be checked ({reason})")
    return tree["statements"]


def _check_tree(con: duckdb.DuckDBPyConnection, query: str, tree: Any) -> None:
    nodes = list(_nodes(tree))
    maps = (node.get("cte_map", {}).get("map", []) for node in nodes)
    ctes = {entry["key"].lower() for entries in maps for entry in entries}
    own = {name.lower() for (name,) in con.execute(_OWN_TABLES).fetchall()}
    for node in nodes:
        reason = _refusal(node, own | ctes)
        if reason is not None:
            raise SqlRefusedError(query, reason)


def _refusal(node: dict[str, Any], tables: set[str]) -> str | None:
    """Why ``node`` of a parse tree is refused, or None."""
    kind = str(node.get("type", ""))
    if kind.endswith("_NODE") and _WRITES.match(kind):
        return f"a query may not write ({kind.split('_')[0]} found inside it)"
    if kind == "BASE_TABLE":
        name = str(node.get("table_name", ""))
        qualified = node.get("schema_name") not in ("", "main") or node.get("catalog_name")
        if qualified or name.lower() not in tables:
            return f"{name!r} is not a table of this store (its tables: {sorted(tables)})"
    if kind == "TABLE_FUNCTION":
        name = str(node.get("function", {}).get("function_name", ""))
        if name.lower() not in TABLE_FUNCTIONS:
            return f"the table function {name}() is not allowed (only {sorted(TABLE_FUNCTIONS)})"
    if node.get("class") == "FUNCTION":
        name = str(node.get("function_name", ""))
        if name.lower() in SCALAR_FUNCTIONS_REFUSED:
            return f"the function {name}() is not allowed"
    return None


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every object of a parse tree, depth first."""
    if isinstance(tree, dict):
        yield tree
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list):
        for value in tree:
            yield from _nodes(value)
