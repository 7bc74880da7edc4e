"""What an AsyncHost answers first once an append is durable: the callers waiting on it (a
start's reply, a result) go before the batch's other work (an activity's dispatch, the
closure's report to the control plane), which is on nobody's path. The host runs over
``StoreTransport`` (a fake of the Transport seam backed by a real store)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import aion_ray as aion
from aion_ray.engine.async_host import AsyncHost
from aion_ray.engine.starts import encode_input, start_event
from aion_ray.engine.transport import AttemptKey, Closure, Outcome
from aion_ray.model import events as ev
from aion_ray.model.ids import new_run_id
from aion_ray.model.payload import DEFAULT_MAX_PAYLOAD_BYTES
from aion_ray.runtime import commands as cmd
from aion_ray.storage import HistoryStore
from tests.engine.store_transport import StoreTransport


@aion.activity
def plus_one(i: int) -> int:
    return i + 1


@aion.workflow
async def one_step(ctx: aion.WorkflowContext, i: int) -> int:
    return int(await ctx.run(plus_one, i))


class Watching(StoreTransport):
    """Notes whether the watched call had answered when an attempt or a closure left."""

    watched: asyncio.Future[Any] | None = None
    seen: list[tuple[str, bool]]

    async def run_activity(
        self, command: cmd.ScheduleActivity, max_bytes: int, attempt: AttemptKey
    ) -> Outcome:
        self.seen.append(("attempt", self.watched is not None and self.watched.done()))
        return await super().run_activity(command, max_bytes, attempt)

    def closed(self, closures: Sequence[Closure]) -> None:
        self.seen.append(("closure", self.watched is not None and self.watched.done()))
        super().closed(closures)


def host_over(store: HistoryStore) -> tuple[AsyncHost, Watching]:
    transport = Watching(store)
    transport.seen = []
    return AsyncHost(transport, holder="host-a"), transport


def starting(host: AsyncHost, wid: str) -> asyncio.Future[None]:
    payload = encode_input(one_step, 1, DEFAULT_MAX_PAYLOAD_BYTES)
    started = start_event(one_step, payload)
    return asyncio.ensure_future(host.start(one_step, wid, started, new_run_id()))


def test_a_start_is_answered_before_its_first_activity_is_dispatched(
    store: HistoryStore,
) -> None:
    async def scenario() -> None:
        host, transport = host_over(store)
        transport.watched = starting(host, "wf")
        await transport.watched
        end = await host.result("wf", 30)
        host.close()
        assert isinstance(end, ev.WorkflowCompleted)
        assert ("attempt", True) in transport.seen, transport.seen

    asyncio.run(asyncio.wait_for(scenario(), timeout=60))


def test_a_result_is_answered_before_the_end_is_reported_to_the_control_plane(
    store: HistoryStore,
) -> None:
    async def scenario() -> None:
        host, transport = host_over(store)
        await starting(host, "wf")
        transport.watched = asyncio.ensure_future(host.result("wf", 30))
        end = await transport.watched
        for _ in range(10):  # the report follows within a few loop turns
            await asyncio.sleep(0)
        host.close()
        assert isinstance(end, ev.WorkflowCompleted)
        assert ("closure", True) in transport.seen, transport.seen

    asyncio.run(asyncio.wait_for(scenario(), timeout=60))
