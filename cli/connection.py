"""Where a command's workflows come from: the running engine (``--address``,
``--namespace``) or a store file or Parquet export read with no engine (``--history-file``).

Both are a ``Source`` with the same reads, so ``list``, ``describe``, ``show``, ``sql``,
``export``, ``replay`` and ``timeline`` work on either. Joining a cluster never starts an
engine: a namespace with no engine is an error naming it (the CLI operates engines, a
driver program runs them). Ray is imported only when a command needs the engine, and its
driver logs stay off stdout.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from aion_ray.cli.errors import CliError, ExitCode
from aion_ray.display.history import History
from aion_ray.display.offline import OfflineHistories, open_history
from aion_ray.errors import InvalidInputError, WorkflowNotFoundError
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.visibility import WorkflowInfo, project_info

if TYPE_CHECKING:
    from aion_ray.actors.client import Client

DEFAULT_ADDRESS = "auto"
"""The running cluster (``RAY_ADDRESS``, else the one this machine started last)."""
PROBE_TIMEOUT = 5.0
"""Seconds to reach a cluster's ``host:port`` before giving up (Ray itself retries a dead
address for minutes)."""


@dataclass(frozen=True)
class Target:
    """The global options: which engine, or which file."""

    address: str | None = None
    namespace: str = "aion"
    history_file: Path | None = None


class Source(Protocol):
    """The reads every offline-capable command needs."""

    def infos(self, status: str | None, workflow_type: str | None) -> list[WorkflowInfo]: ...

    def info(self, workflow_id: str) -> WorkflowInfo: ...

    def history(self, workflow_id: str) -> History:
        """Every event of the workflow, with its lifecycle log."""
        ...

    def sql(self, query: str) -> Any:
        """A pyarrow Table."""
        ...


class LiveSource:
    """The running engine, through the public client."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def infos(self, status: str | None, workflow_type: str | None) -> list[WorkflowInfo]:
        return list(self.client.list(status=status, workflow_type=workflow_type))

    def info(self, workflow_id: str) -> WorkflowInfo:
        return self.client.get(workflow_id).describe()

    def history(self, workflow_id: str) -> History:
        events = self.client.get(workflow_id).history()
        return History(events, self.client.store.read_lifecycle(workflow_id).get())

    def sql(self, query: str) -> Any:
        return self.client.sql(query)


class FileSource:
    """A store file or a Parquet export, read with no engine."""

    def __init__(self, histories: OfflineHistories) -> None:
        self.histories = histories

    def infos(self, status: str | None, workflow_type: str | None) -> list[WorkflowInfo]:
        return list(self.histories.list(status=status, workflow_type=workflow_type))

    def info(self, workflow_id: str) -> WorkflowInfo:
        # Folded from the events, which a file always has complete (its visibility rows
        # may trail them after a crash).
        info = project_info(self.histories.history(workflow_id))
        if info is None:
            raise WorkflowNotFoundError(workflow_id)
        return info

    def history(self, workflow_id: str) -> History:
        return self.histories.history(workflow_id)

    def sql(self, query: str) -> Any:
        return self.histories.sql(query)


def check_status(status: str | None) -> str | None:
    """``status`` if it names a WorkflowStatus (InvalidInputError listing them if not)."""
    known = [s.value for s in WorkflowStatus]
    if status is None or status in known:
        return status
    raise InvalidInputError(f"unknown status {status!r}; one of: {', '.join(known)}")


def open_source(target: Target) -> Source:
    """The file when ``--history-file`` is given, else the running engine."""
    if target.history_file is not None:
        return FileSource(open_history(target.history_file))
    return LiveSource(live_client(target))


def live_client(target: Target) -> Client:
    """The client of the engine running in ``target.namespace``; CliError (unreachable) if
    there is no cluster at the address or no engine in the namespace."""
    if target.history_file is not None:
        raise CliError("this command needs a running engine, not --history-file")
    import ray  # noqa: PLC0415 (offline commands and --help never load Ray)

    from aion_ray.actors.config import STORE_NAME  # noqa: PLC0415
    from aion_ray.actors.connect import connect  # noqa: PLC0415

    address = target.address or os.environ.get("RAY_ADDRESS") or DEFAULT_ADDRESS
    if not ray.is_initialized():
        _probe(address)
        try:
            ray.init(
                address=address,
                namespace=target.namespace,
                log_to_driver=False,  # workers' output is not this command's output
                logging_level=logging.ERROR,
            )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            message = f"cannot reach a Ray cluster at {address!r}: {exc}"
            raise CliError(message, ExitCode.UNREACHABLE) from None
    try:
        ray.get_actor(STORE_NAME, namespace=target.namespace)
    except ValueError:  # Ray's answer for "no such actor"
        message = f"no aion engine runs in namespace {target.namespace!r} at {address!r}"
        raise CliError(message, ExitCode.UNREACHABLE) from None
    return connect(address=address, namespace=target.namespace)


def _probe(address: str) -> None:
    """CliError (unreachable) unless a ``host:port`` address accepts a connection."""
    host, colon, port = address.rpartition(":")
    if not colon or not port.isdigit() or "://" in address:
        return  # "auto" and client addresses: Ray resolves them
    try:
        socket.create_connection((host, int(port)), timeout=PROBE_TIMEOUT).close()
    except OSError as exc:
        message = f"cannot reach a Ray cluster at {address!r}: {exc}"
        raise CliError(message, ExitCode.UNREACHABLE) from None
