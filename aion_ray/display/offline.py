"""``aion.open_history(path)``: a store file or a Parquet export, explored with no engine:
``sql``, ``list``, a workflow's ``history`` and ``timeline``, as the client offers them."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from aion_ray.display.history import History
from aion_ray.display.infos import WorkflowList
from aion_ray.display.picture import TimelinePicture
from aion_ray.errors import InvalidInputError, WorkflowNotFoundError
from aion_ray.model.history import WorkflowStatus


class OfflineHistories:
    """Histories read from a file no engine holds. Close it (or use ``with``) when done."""

    def __init__(self, path: str | Path) -> None:
        # DuckDB is the storage layer's; it is loaded only when a file is opened.
        from aion_ray.storage.history_file import HistoryFile  # noqa: PLC0415

        self._file = HistoryFile(path)
        self.path = self._file.path

    def sql(self, query: str) -> Any:
        """One read-only query over the public schema; a pyarrow Table."""
        return self._file.sql(query)

    def list(
        self, *, status: str | WorkflowStatus | None = None, workflow_type: str | None = None
    ) -> WorkflowList:
        """The workflows matching every condition given, oldest first."""
        try:
            wanted = WorkflowStatus(status) if status is not None else None
        except ValueError as exc:
            raise InvalidInputError(f"invalid list filter: {exc}") from exc
        return WorkflowList(self._file.infos(wanted, workflow_type))

    def history(self, workflow_id: str) -> History:
        """Every event of the workflow, with its lifecycle log; WorkflowNotFoundError if none."""
        events = self._file.events(workflow_id)
        if not events:
            raise WorkflowNotFoundError(workflow_id)
        return History(events, self._file.lifecycle(workflow_id))

    def timeline(self, workflow_id: str, format: str = "svg") -> TimelinePicture:
        history = self.history(workflow_id)
        return TimelinePicture.of(history, history.lifecycle, format=format)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> OfflineHistories:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"OfflineHistories({str(self.path)!r})"


def open_history(path: str | Path) -> OfflineHistories:
    """Open a store file (``.duckdb``) or a Parquet export directory read-only. While an
    engine holds the file, StoreError says to ask through the client or an export."""
    if not isinstance(path, str | Path) or not str(path):
        raise InvalidInputError(f"open_history needs a path, got {path!r}")
    return OfflineHistories(path)
