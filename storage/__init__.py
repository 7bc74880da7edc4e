"""History persistence: the HistoryStore protocol, the in-memory reference and DuckDB."""

from aion_ray.engine.recorder import Lease
from aion_ray.storage.base import DueTimer, ExportResult, HistoryStore, LifecycleEntry
from aion_ray.storage.committer import WriterStats
from aion_ray.storage.duckdb_store import DuckDBHistoryStore
from aion_ray.storage.memory import InMemoryHistoryStore

__all__ = [
    "DuckDBHistoryStore",
    "DueTimer",
    "ExportResult",
    "HistoryStore",
    "InMemoryHistoryStore",
    "Lease",
    "LifecycleEntry",
    "WriterStats",
]
