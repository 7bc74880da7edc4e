"""Chaos: forty workflows with Ray-task steps, durable sleeps, children and signals between
workflows, while a killer SIGKILLs random workflow actors every fraction of a second and,
once each, the registry and the store. At the end every result is that of an uninterrupted
run, every history is valid, no signal was lost or recorded twice, and no step ran without
a recorded start (a completed step never ran again). ``benchmarks/chaos_bench.py`` is the
longer run."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Iterable
from pathlib import Path
from typing import TypeVar

import pytest

from aion_ray.model import events as ev
from tests.ray import chaos_workflows as cw
from tests.ray.chaos import Killer, check_history, results, runs_of
from tests.ray.conftest import Connect

pytestmark = pytest.mark.ray
T = TypeVar("T")

WORKFLOWS = 40
KILLING = 8.0  # seconds of kills
EVERY = 0.4  # seconds between host kills
RESULTS = 90.0  # seconds for every workflow to finish once the kills stop


def test_every_workflow_finishes_right_through_kills(connect: Connect, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    client = connect(
        pool_size=(4, 12), workflows_per_actor=5, restart_limit=(1000, 60.0), idle_timeout=60
    )
    handles = asyncio.run(
        _gathered(
            client.start_async(cw.chaos, (str(runs), i), id=f"chaos-{i}") for i in range(WORKFLOWS)
        )
    )
    killer = Killer(client, seconds=KILLING, every=EVERY, once_at={"registry": 2.0, "store": 4.5})
    killer.start()
    # Sent at once, as many clients would: each one that meets a host just killed waits for
    # its workflow to be hosted again.
    asyncio.run(_gathered(h.signal_async("go", None) for h in handles))
    killer.join()

    found = results(client, handles, timeout=RESULTS)
    assert found == [cw.expected(i) for i in range(WORKFLOWS)]
    assert killer.killed["host"] >= 5, killer.killed
    assert killer.killed["registry"] == killer.killed["store"] == 1, killer.killed
    for handle in handles:
        history = handle.history()
        check_history(history)
        names = [e.name for e in history if isinstance(e, ev.SignalReceived)]
        assert sorted(names) == ["go", "hello"], (handle.workflow_id, names)
        assert runs_of(runs, handle.workflow_id) <= _starts(history), handle.workflow_id
    for i in range(0, WORKFLOWS, 4):
        child = client.get(f"chaos-{i}-child")
        check_history(child.history())
        assert runs_of(runs, child.workflow_id) <= _starts(child.history())


async def _gathered(calls: Iterable[Awaitable[T]]) -> list[T]:
    return list(await asyncio.gather(*calls))


def _starts(history: list[ev.Event]) -> int:
    """Recorded starts of step attempts: every run of a step was recorded first."""
    return sum(isinstance(e, ev.ActivityStarted) for e in history)


if os.environ.get("AION_CHAOS_SECONDS"):  # a longer run by hand: AION_CHAOS_SECONDS=60
    KILLING = float(os.environ["AION_CHAOS_SECONDS"])
