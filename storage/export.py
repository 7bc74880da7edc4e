"""Parquet export: new events incrementally, the other tables as snapshots, every file atomic.

Events go to ``events-<first commit>-<last commit>.parquet``; the store remembers the last
exported commit, so the next export writes only what came after. ``workflows``, ``lifecycle``
and ``timers`` are rewritten whole each time. Files are written under a temporary name and
renamed into place, so readers never see a half-written file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from aion_ray.storage.schema import EVENTS_ARROW, SNAPSHOT_SCHEMAS


def write_snapshots(tables: Mapping[str, pa.Table], directory: Path) -> list[str]:
    """Rewrite each snapshot table as ``<name>.parquet``; return the file names."""
    names = []
    for name, schema in SNAPSHOT_SCHEMAS.items():
        write_atomically(tables[name], directory / f"{name}.parquet", schema)
        names.append(f"{name}.parquet")
    return names


def write_atomically(table: pa.Table, path: Path, schema: pa.Schema) -> None:
    """Write ``table`` to ``path`` via a temporary file and an atomic rename."""
    temporary = path.with_name(f".{path.name}.tmp")
    pq.write_table(table.cast(schema), temporary)
    _fsync(temporary)
    os.replace(temporary, path)


def write_events(batches: Iterable[pa.RecordBatch], directory: Path) -> tuple[str | None, int]:
    """Stream event batches into one new file; return its name (None if empty) and row count."""
    temporary = directory / ".events-export.tmp"
    rows, first, last = 0, None, None
    writer = None
    try:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            if writer is None:
                writer = pq.ParquetWriter(temporary, EVENTS_ARROW)
            batch = batch.cast(EVENTS_ARROW)
            writer.write_batch(batch)
            commit_ids = batch.column("commit_id")
            first = first if first is not None else commit_ids[0].as_py()
            last, rows = commit_ids[-1].as_py(), rows + batch.num_rows
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        return None, 0
    name = f"events-{first:012d}-{last:012d}.parquet"
    _fsync(temporary)
    os.replace(temporary, directory / name)
    return name, rows


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
