"""Schema versions of a store file, and the steps that bring an older file up to date.

Opening a file runs the DDL first (``CREATE ... IF NOT EXISTS``: a table a later version
added appears, empty), then ``stored_version`` (a new file is stamped with SCHEMA_VERSION, a
newer one refused) and, once the file is otherwise ready, ``migrate``: each step from the
file's version on fills what its version added from the older layout, in one transaction
with the new version stamp, so a step that fails leaves the file as it was.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

from aion_ray.errors import StoreError
from aion_ray.storage.duckdb.db import first_row, transaction
from aion_ray.storage.schema import SCHEMA_VERSION

LEGACY_DEFINITIONS = "aion.definitions/"
"""Before version 2 the definitions catalogue was lifecycle rows (kind ``definition``, detail
``{"fingerprint": ..., "pickle": <base64>}``) under the id ``aion.definitions/<type>``."""

_LEGACY_ROWS = f"""kind = 'definition' AND starts_with(workflow_id, '{LEGACY_DEFINITIONS}')
    AND detail->>'fingerprint' IS NOT NULL AND TRY(from_base64(detail->>'pickle')) IS NOT NULL"""

_DEFINITIONS_FROM_LIFECYCLE = f"""
INSERT INTO definitions
SELECT workflow_type, fingerprint, blob,
       row_number() OVER (ORDER BY saved_at, workflow_type, fingerprint)
FROM (
    SELECT substr(workflow_id, {len(LEGACY_DEFINITIONS) + 1}) AS workflow_type,
           detail->>'fingerprint' AS fingerprint,
           arg_max(from_base64(detail->>'pickle'), recorded_at) AS blob,
           max(recorded_at) AS saved_at
    FROM lifecycle WHERE {_LEGACY_ROWS}
    GROUP BY 1, 2
)
"""

_SUSPENSIONS_FROM_LIFECYCLE = """
INSERT INTO suspensions
WITH newest AS (
    SELECT workflow_id, arg_max({'run_id': run_id, 'detail': detail}, recorded_at) AS last
    FROM lifecycle WHERE kind = 'suspended' GROUP BY workflow_id
), heads AS (
    SELECT workflow_id, max(seq) AS head FROM events
    WHERE workflow_id IN (SELECT workflow_id FROM newest) GROUP BY workflow_id
)
SELECT n.workflow_id, w.run_id, h.head,
       TRY_CAST(n.last.detail->>'wake_at' AS TIMESTAMPTZ), coalesce(n.last.detail->>'host', '')
FROM newest AS n JOIN heads AS h USING (workflow_id) JOIN workflows AS w USING (workflow_id)
WHERE w.status IN ('running', 'paused') AND coalesce(n.last.run_id, w.run_id) = w.run_id
    AND TRY_CAST(n.last.detail->>'head' AS BIGINT) = h.head
"""


def stored_version(con: duckdb.DuckDBPyConnection, path: str) -> int:
    """The schema version of the open file (a new file is stamped with the current one);
    a file of a newer version is refused with StoreError (and closed)."""
    row = first_row(con, "SELECT value FROM aion_meta WHERE key = 'schema_version'")
    if row is None:
        con.execute("INSERT INTO aion_meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        return SCHEMA_VERSION
    version = int(row[0]) if str(row[0]).isdigit() else -1
    if not 1 <= version <= SCHEMA_VERSION:
        con.close()
        raise StoreError(
            f"{path!r} has schema version {row[0]!r}; this aion-ray reads versions 1 to "
            f"{SCHEMA_VERSION}"
        )
    return version


def migrate(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """Bring a file of ``version`` up to SCHEMA_VERSION, one step per version."""
    for step_version in range(version, SCHEMA_VERSION):
        with transaction(con):
            _STEPS[step_version](con)
            con.execute(
                "UPDATE aion_meta SET value = ? WHERE key = 'schema_version'",
                [str(step_version + 1)],
            )


def _to_version_2(con: duckdb.DuckDBPyConnection) -> None:
    """The definitions catalogue and the suspension index get tables of their own: fill
    them from the lifecycle rows that held them, and drop the catalogue's rows (they named
    no workflow)."""
    con.execute(_DEFINITIONS_FROM_LIFECYCLE)
    con.execute(f"DELETE FROM lifecycle WHERE {_LEGACY_ROWS}")
    con.execute(_SUSPENSIONS_FROM_LIFECYCLE)


def _to_version_3(con: duckdb.DuckDBPyConnection) -> None:
    """The ``schedules`` table: the DDL made it, empty (no older version kept schedules)."""


_STEPS: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {
    1: _to_version_2,
    2: _to_version_3,
}
"""The step that migrates a file of each older version to the next one."""
