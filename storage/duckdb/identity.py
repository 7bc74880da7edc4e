"""A store file's identity: a store id written once, when the file is created, and checked at
every open that names one.

The id lets a process that reopens a store know it has the file it was given, not an empty
one created in its place: the store actor restarted on a node that does not hold the file
would otherwise start over with no histories. Ids are read and written in ``aion_meta``.
"""

from __future__ import annotations

import os
import uuid

import duckdb

from aion_ray.errors import StoreError
from aion_ray.storage.duckdb.db import first_row

STORE_ID = "store_id"
"""The ``aion_meta`` key of the store id."""


def check_present(path: str, expected: str | None) -> None:
    """Before an open that names a store id: the file must already be there (DuckDB would
    create an empty one). StoreError otherwise."""
    if expected is not None and not os.path.isfile(path):
        raise StoreError(
            f"cannot open history store {path!r}: no store file there; the store {expected} "
            "was created elsewhere (on another node, or the file was moved or deleted), and "
            "an empty store is not created in its place"
        )


def stamped_id(con: duckdb.DuckDBPyConnection, path: str, expected: str | None) -> str:
    """The file's store id. A file without one (new, or from before ids) is given a fresh
    one, unless ``expected`` is named: then the file must carry exactly that id
    (StoreError otherwise, the connection closed)."""
    row = first_row(con, "SELECT value FROM aion_meta WHERE key = ?", [STORE_ID])
    found = str(row[0]) if row else None
    if expected is not None and found != expected:
        con.close()
        raise StoreError(
            f"cannot open history store {path!r}: the file is the store "
            f"{found or '(no id)'}, not the store {expected}"
        )
    if found is None:
        found = uuid.uuid4().hex
        con.execute("INSERT INTO aion_meta VALUES (?, ?)", [STORE_ID, found])
    return found


def read_id(con: duckdb.DuckDBPyConnection) -> str:
    """The store id of an open store file (``stamped_id`` gave it one at open)."""
    row = first_row(con, "SELECT value FROM aion_meta WHERE key = ?", [STORE_ID])
    assert row is not None, "the store was opened without stamped_id"
    return str(row[0])
