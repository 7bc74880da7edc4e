"""A workflow's signal to a workflow hosted elsewhere is sent until the control plane takes
it: the control plane restarting when it is sent loses nothing, also when the sender has
already finished; the sender's end is reported only once its signal is taken, and a host
that finds the sender ended (its last host died) sends its signals again. Runs on the
in-memory store and on a DuckDB file."""

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


def test_the_end_of_a_sender_is_reported_once_its_signal_is_taken(store: HistoryStore) -> None:
    async def scenario() -> None:
        transport = StoreTransport(store)
        transport.away = 10**9  # the control plane is away until the test says
        host = AsyncHost(transport, holder="host-a")
        host.effects.outbox.pauses = (0.01,)
        await start(host, messenger, "elsewhere", "sender")
        await asyncio.sleep(0.2)
        assert store.read_history("sender")[-1].type == "WorkflowCompleted"
        assert transport.closures == []  # held: the control plane still places it here
        assert host.hosted() == ["sender"]
        transport.away = 0
        assert await result(host, "sender") == "sent"
        await asyncio.sleep(0.05)
        assert [c.workflow_id for c in transport.closures] == ["sender"]
        host.close()

    run(scenario)


def test_a_host_that_finds_the_sender_ended_sends_its_signal_again(store: HistoryStore) -> None:
    async def scenario() -> None:
        first = StoreTransport(store)
        first.away = 10**9  # the first host dies before the control plane takes the signal
        dying = AsyncHost(first, holder="host-a")
        await start(dying, messenger, "elsewhere", "sender")
        await asyncio.sleep(0.1)
        dying.close()
        assert first.signals == []

        second = StoreTransport(store)
        host = AsyncHost(second, holder="host-b")
        outcome = await host.resume(["sender"])
        assert getattr(outcome["sender"], "type", None) == "WorkflowCompleted"
        for _ in range(100):
            if second.signals:
                break
            await asyncio.sleep(0.01)
        [sent] = second.signals
        assert (sent.target_workflow_id, sent.name, sent.send_id) == ("elsewhere", "go", 1)
        host.close()

    run(scenario)
