"""The definitions catalogue in the ``definitions`` table (bytes per workflow type and code
fingerprint; ``revision`` numbers the saves, the highest of a type is its newest)."""

from __future__ import annotations

import duckdb

from aion_ray.storage.duckdb.db import first_row

_NEWEST_FINGERPRINT = (
    "SELECT fingerprint FROM definitions WHERE workflow_type = ? ORDER BY revision DESC LIMIT 1"
)
_SAVE = """
INSERT INTO definitions
VALUES (?, ?, ?, (SELECT coalesce(max(revision), 0) + 1 FROM definitions))
ON CONFLICT (workflow_type, fingerprint) DO UPDATE SET blob = excluded.blob,
    revision = excluded.revision
"""
_LOAD = """
SELECT workflow_type, arg_max(blob, revision) FROM definitions
WHERE list_contains(?, workflow_type) GROUP BY workflow_type
"""


def save_definition(
    con: duckdb.DuckDBPyConnection, workflow_type: str, fingerprint: str, blob: bytes
) -> None:
    """Make ``blob`` the newest definition of ``workflow_type`` (checked input; the caller
    holds the write connection). Nothing is written when it is the newest already."""
    newest = first_row(con, _NEWEST_FINGERPRINT, [workflow_type])
    if newest is None or newest[0] != fingerprint:
        con.execute(_SAVE, [workflow_type, fingerprint, blob])


def load_definitions(
    cursor: duckdb.DuckDBPyConnection, workflow_types: list[str]
) -> dict[str, bytes]:
    """The newest definition of each of ``workflow_types`` that has one."""
    if not workflow_types:
        return {}
    rows = cursor.execute(_LOAD, [workflow_types]).fetchall()
    return {workflow_type: bytes(blob) for workflow_type, blob in rows}
