"""The store actor's catalogue and suspension methods over a real DuckDB file (the actor's
class, called on an asyncio loop as Ray calls it; Ray itself adds nothing these depend on)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from aion_ray.actors.store_actor import HistoryStoreActor
from aion_ray.errors import InvalidInputError
from aion_ray.model.store import AppendRequest, SuspendedWorkflow
from tests.builders import T0, HistoryBuilder


async def exercise(actor: HistoryStoreActor) -> None:
    b = HistoryBuilder("wf-1")
    b.started()
    (started,) = await actor.append_batch([AppendRequest("wf-1", b.events, 0, acquire="h-1")])
    assert started.ok
    parked = SuspendedWorkflow(workflow_id="wf-1", run_id=b.run_id, head=1, host="h-1")
    await actor.record_lifecycle([parked.entry(T0)])
    assert await actor.suspended_workflows() == [parked]
    assert await actor.suspended_workflows(after="wf-1") == []
    await actor.save_definition("pipeline", "fp-1", b"code")
    assert await actor.load_definitions(["pipeline", "other"]) == {"pipeline": b"code"}
    with pytest.raises(InvalidInputError, match="empty"):
        await actor.save_definition("pipeline", "fp-2", b"")
    with pytest.raises(InvalidInputError, match="limit"):
        await actor.suspended_workflows(limit=-1)
    calls = await actor.stats()
    assert (calls["save_definition"], calls["load_definitions"]) == (2, 1)
    assert calls["suspended_workflows"] == 3


def test_the_store_actor_serves_the_catalogue_and_the_suspensions(tmp_path: Path) -> None:
    actor = HistoryStoreActor(str(tmp_path / "history.duckdb"))
    try:
        asyncio.run(exercise(actor))
    finally:
        asyncio.run(actor.close())
