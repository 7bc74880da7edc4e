"""The suspension index's rules, shared by both stores.

A ``suspended`` lifecycle entry (``SuspendedWorkflow.entry``) is indexed when it is recorded,
if it still describes the workflow (its run is the current one and open, and its head is the
current head); any later append to that workflow drops it from the index in the same
transaction. The index therefore answers "which workflows wait in their history alone"
without looking at any history. Its rows are durable with the commit that staged them, even
when the lifecycle row of a suspension that rode on an append still trails (see
``duckdb.trail``): a crash may lose that log row, never the index row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aion_ray.errors import InvalidInputError
from aion_ray.model.store import SUSPENDED, LifecycleEntry, SuspendedWorkflow
from aion_ray.storage.guard import HeadState


def check_suspensions(entries: Iterable[LifecycleEntry]) -> None:
    """Refuse a ``suspended`` entry that does not record a suspension (InvalidInputError)."""
    for entry in entries:
        if entry.kind == SUSPENDED:
            SuspendedWorkflow.of_entry(entry)


def still_suspended(entry: LifecycleEntry, state: HeadState) -> SuspendedWorkflow | None:
    """The suspension ``entry`` records (a checked one), if it still describes the workflow
    whose head is ``state``: else None (something was appended since, or the run ended)."""
    if entry.kind != SUSPENDED:
        return None
    suspended = SuspendedWorkflow.of_entry(entry)
    current = (
        suspended.head == state.head and suspended.run_id == state.run_id and state.terminal is None
    )
    return suspended if current else None


def checked_page(after: object, limit: object) -> tuple[str | None, int | None]:
    if after is not None and not isinstance(after, str):
        raise InvalidInputError(f"after must be a workflow id (str) or None, got {after!r:.80}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidInputError(f"limit must be a non-negative int or None, got {limit!r}")
    return after, limit


def page(
    suspended: Iterable[SuspendedWorkflow], after: str | None, limit: int | None
) -> list[SuspendedWorkflow]:
    """The suspensions with ids above ``after``, by id, at most ``limit`` of them."""
    found: Sequence[SuspendedWorkflow] = sorted(
        (s for s in suspended if after is None or s.workflow_id > after),
        key=lambda s: s.workflow_id,
    )
    return list(found if limit is None else found[:limit])
