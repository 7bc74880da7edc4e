"""History persistence: the HistoryStore protocol, the in-memory reference and DuckDB."""

from aion_ray.model.lease import Lease
from aion_ray.storage.contract import (
    DueTimer,
    ExportResult,
    HistoryStore,
    LifecycleEntry,
    SqlLimits,
)
from aion_ray.storage.duckdb.committer import WriterStats
from aion_ray.storage.duckdb.store import DuckDBHistoryStore
from aion_ray.storage.memory import InMemoryHistoryStore

__all__ = [
    "DuckDBHistoryStore",
    "DueTimer",
    "ExportResult",
    "HistoryStore",
    "InMemoryHistoryStore",
    "Lease",
    "LifecycleEntry",
    "SqlLimits",
    "WriterStats",
]
