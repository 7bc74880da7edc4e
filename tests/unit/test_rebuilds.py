"""Rebuilds (``engine/rebuilds.py``): a rebuild whose history cannot be read is tried again,
and past its tries the control plane is asked to host the workflow; one whose history was
read (hosted again) is left to the refusal that follows."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aion_ray.engine.rebuilds import Rebuilds, may_have_landed
from aion_ray.errors import (
    EngineUnavailableError,
    FencedError,
    SequenceConflictError,
    StoreError,
)


class Host:
    def __init__(self, failures: int, hosts_after_failure: bool = False) -> None:
        self.failures = failures
        self.hosts_after_failure = hosts_after_failure
        self.hosted: set[str] = set()
        self.tries = 0
        self.woken: list[str] = []

    async def resume(self, workflow_ids: Sequence[str]) -> None:
        self.tries += 1
        if self.hosts_after_failure:
            self.hosted.update(workflow_ids)
        if self.failures:
            self.failures -= 1
            raise EngineUnavailableError("aion-store", "away", state="unreachable")
        self.hosted.update(workflow_ids)

    def rebuilds(self) -> Rebuilds:
        return Rebuilds(self.resume, self.hosted.__contains__, self.woken.extend, (0, 0))


async def _done(rebuilds: Rebuilds) -> None:
    for _ in range(100):
        await asyncio.sleep(0)


def test_a_rebuild_is_tried_again_until_the_history_is_read() -> None:
    host = Host(failures=2)
    rebuilds = host.rebuilds()

    async def scenario() -> None:
        rebuilds.run("wf")
        await _done(rebuilds)

    asyncio.run(scenario())
    assert host.tries == 3
    assert host.hosted == {"wf"}
    assert host.woken == []


def test_past_its_tries_the_control_plane_is_asked_to_host_it() -> None:
    host = Host(failures=10)
    rebuilds = host.rebuilds()

    async def scenario() -> None:
        rebuilds.run("wf")
        await _done(rebuilds)

    asyncio.run(scenario())
    assert host.tries == 3  # two pauses: three tries
    assert host.woken == ["wf"]


def test_a_rebuild_hosted_again_is_not_retried() -> None:
    host = Host(failures=1, hosts_after_failure=True)  # its append failed after the read
    rebuilds = host.rebuilds()

    async def scenario() -> None:
        rebuilds.run("wf")
        await _done(rebuilds)

    asyncio.run(scenario())
    assert host.tries == 1
    assert host.woken == []


def test_what_may_have_landed() -> None:
    assert may_have_landed(StoreError("the reply was lost"))
    assert may_have_landed(EngineUnavailableError("aion-store", "away", state="unreachable"))
    assert not may_have_landed(SequenceConflictError("wf", 0, 3))
    assert not may_have_landed(FencedError("wf", 1, 2))
