"""A workflow's signal to a workflow hosted elsewhere is sent until the control plane takes
it: the control plane restarting when it is sent loses nothing, also when the sender has
already finished. Runs on the in-memory store and on a DuckDB file."""

from __future__ import annotations

import asyncio

import aion_ray as aion
from aion_ray.engine.async_host import AsyncHost
from aion_ray.storage import HistoryStore
from tests.engine.store_transport import StoreTransport
from tests.engine.test_async_pump import result, run, start


@aion.workflow
async def messenger(ctx: aion.WorkflowContext, target: str) -> str:
    await ctx.signal_workflow(target, "go", "from a workflow")
    return "sent"


def test_a_signal_the_control_plane_did_not_take_is_sent_again(store: HistoryStore) -> None:
    async def scenario() -> None:
        transport = StoreTransport(store)
        transport.away = 3  # restarting: the first three tries are not taken
        host = AsyncHost(transport, holder="host-a")
        host.effects.outbox.pauses = (0.01,)
        await start(host, messenger, "elsewhere", "sender")
        assert await result(host, "sender") == "sent"  # the sender ends meanwhile
        for _ in range(500):
            if transport.signals:
                break
            await asyncio.sleep(0.01)
        [sent] = transport.signals
        assert (sent.target_workflow_id, sent.name) == ("elsewhere", "go")
        assert transport.away == 0
        host.close()

    run(scenario)
