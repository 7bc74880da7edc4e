"""AsyncHost's own pump (``engine/async_pump.py``), not the TestEngine's copy of its loop: the
host runs over ``StoreTransport`` (a fake of the Transport seam backed by a real store) that
shares nothing it is not given, loses acknowledgements, refuses batches and fences. Every test
checks that the stored history is valid (contiguous, one start, one end, no record twice, and
the workflow's code replays it). Each runs on the in-memory store and on a DuckDB file."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import aion_ray as aion
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.engine.async_host import AsyncHost
from aion_ray.engine.starts import encode_input, start_event
from aion_ray.errors import FencedError, StoreError
from aion_ray.model import events as ev
from aion_ray.model.ids import new_run_id
from aion_ray.model.payload import DEFAULT_MAX_PAYLOAD_BYTES, decode, encode
from aion_ray.model.rows import EncodedEvents
from aion_ray.model.store import AppendRequest
from aion_ray.storage import HistoryStore
from aion_ray.testing.replay import replay
from tests.engine.store_transport import Fault, Gate, StoreTransport

QUICK_RETRY = aion.RetryPolicy(max_attempts=3, initial_interval=0.01)


@aion.activity(retry=QUICK_RETRY)
def plus_one(i: int) -> int:
    return i + 1


@aion.workflow
async def fan_out(ctx: aion.WorkflowContext, n: int) -> list[int]:
    return list(await asyncio.gather(*(ctx.run(plus_one, i) for i in range(n))))


@aion.workflow
async def steps_then_signal(ctx: aion.WorkflowContext) -> int:
    first = await ctx.run(plus_one, 1)
    second = await ctx.run(plus_one, first)
    extra: int = await ctx.wait_signal("more")
    return second + extra


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(scenario(), timeout=60))  # a hang fails, not blocks


async def start(host: AsyncHost, workflow: WorkflowDefinition[Any], arg: Any, wid: str) -> None:
    payload = encode_input(workflow, arg, DEFAULT_MAX_PAYLOAD_BYTES)
    await host.start(workflow, wid, start_event(workflow, payload), new_run_id())


async def result(host: AsyncHost, wid: str) -> Any:
    end = await host.result(wid, 30)
    assert isinstance(end, ev.WorkflowCompleted), end
    return decode(end.result)


def of(wid: str, *types: type[ev.EventBase]) -> Callable[[AppendRequest], bool]:
    """Requests of ``wid`` holding an event of one of ``types`` (any request if none)."""
    return lambda r: (
        r.workflow_id == wid and (not types or any(isinstance(e, types) for e in decoded(r)))
    )


def decoded(request: AppendRequest) -> list[ev.Event]:
    """A request's events (an AsyncHost sends them encoded, as rows)."""
    events = request.events
    return list(events.decode() if isinstance(events, EncodedEvents) else events)


def sent(transport: StoreTransport, wid: str) -> list[list[str]]:
    """The event types of each request for ``wid`` the host sent, faulted ones included."""
    return [
        [e.type for e in decoded(r)] for b in transport.batches for r in b if r.workflow_id == wid
    ]


def assert_valid(store: HistoryStore, wid: str, workflow: WorkflowDefinition[Any]) -> None:
    history = store.read_history(wid)
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    assert sum(isinstance(e, ev.WorkflowStarted) for e in history) == 1
    ends = [i for i, e in enumerate(history) if isinstance(e, ev.TERMINAL_EVENTS)]
    assert ends in ([], [len(history) - 1])
    keys = [
        (e.type, getattr(e, "activity_id", None), getattr(e, "request_id", None))
        for e in history
        if isinstance(e, ev.ActivityScheduled | ev.ActivityCompleted | ev.SignalReceived)
    ]
    assert len(keys) == len(set(keys)), f"a record was written twice: {keys}"
    replay(history, workflow)  # the code asks for exactly what was recorded


# --- sharing -----------------------------------------------------------------------------------


def test_activities_completing_together_share_one_append(store: HistoryStore) -> None:
    async def scenario() -> None:
        transport = StoreTransport(store, gate=Gate(size=4))  # all four finish at once
        host = AsyncHost(transport, holder="host-a")
        await start(host, fan_out, 4, "wf-fan")
        assert await result(host, "wf-fan") == [1, 2, 3, 4]
        host.close()
        # Unshared, each completion would take an append of its own (five in all).
        assert sent(transport, "wf-fan") == [
            ["WorkflowStarted", *["ActivityScheduled", "ActivityStarted"] * 4],
            [*["ActivityCompleted"] * 4, "WorkflowCompleted"],
        ]

    run(scenario)
    assert_valid(store, "wf-fan", fan_out)


def test_workflows_of_one_host_share_their_store_calls(store: HistoryStore) -> None:
    async def scenario() -> None:
        transport = StoreTransport(store, gate=Gate(size=3))
        host = AsyncHost(transport, holder="host-a")
        ids = [f"wf-{i}" for i in range(3)]
        await asyncio.gather(*(start(host, fan_out, 1, wid) for wid in ids))
        assert [await result(host, wid) for wid in ids] == [[1]] * 3
        host.close()
        # Three starts in one call, then three completions in one: unshared, six calls.
        assert [sorted(r.workflow_id for r in batch) for batch in transport.batches] == [ids] * 2

    run(scenario)
    for wid in ("wf-0", "wf-1", "wf-2"):
        assert_valid(store, wid, fan_out)


# --- lost acknowledgements ---------------------------------------------------------------------


def test_a_lost_acknowledgement_of_a_start_is_sent_again_and_recognised(
    store: HistoryStore,
) -> None:
    async def scenario() -> None:
        transport = StoreTransport(store, Fault("lose", of("wf", ev.WorkflowStarted)))
        host = AsyncHost(transport, holder="host-a")
        await start(host, fan_out, 2, "wf")  # durable despite the lost reply
        assert await result(host, "wf") == [1, 2]
        host.close()
        first = sent(transport, "wf")[0]
        assert sent(transport, "wf")[:2] == [first, first]  # the same batch, sent again
        assert len(transport.batches) == 3  # no rebuild: sent, sent again, the completions

    run(scenario)
    assert_valid(store, "wf", fan_out)


def test_a_lost_acknowledgement_of_a_completion_writes_it_once(store: HistoryStore) -> None:
    async def scenario() -> None:
        transport = StoreTransport(store, Fault("lose", of("wf", ev.ActivityCompleted)))
        host = AsyncHost(transport, holder="host-a")
        await start(host, steps_then_signal, None, "wf")
        await host.signal("wf", "more", encode(10), "request-1")
        assert await result(host, "wf") == 13
        host.close()
        acquiring = [r for b in transport.batches for r in b if r.acquire is not None]
        assert len(acquiring) == 1  # the host kept its lease: it was not rebuilt

    run(scenario)
    assert_valid(store, "wf", steps_then_signal)


def test_a_lost_acknowledgement_of_a_signal_still_answers_the_sender(
    store: HistoryStore,
) -> None:
    async def scenario() -> None:
        transport = StoreTransport(store, Fault("lose", of("wf", ev.SignalReceived)))
        host = AsyncHost(transport, holder="host-a")
        await start(host, steps_then_signal, None, "wf")
        await host.signal("wf", "more", encode(10), "request-1")  # returns: it is durable
        assert await result(host, "wf") == 13
        host.close()
        assert transport.faults[0].applied == 1

    run(scenario)
    assert_valid(store, "wf", steps_then_signal)
    received = [e for e in store.read_history("wf") if isinstance(e, ev.SignalReceived)]
    assert [e.request_id for e in received] == ["request-1"]


def test_an_outcome_unknown_on_every_try_is_rebuilt_from_what_landed(
    store: HistoryStore,
) -> None:
    async def scenario() -> None:
        lost_always = Fault("lose", of("wf", ev.ActivityCompleted), times=4)  # every retry
        transport = StoreTransport(store, lost_always)
        host = AsyncHost(transport, holder="host-a")
        await start(host, steps_then_signal, None, "wf")
        await _eventually(lambda: "wf" in host.hosted() and lost_always.applied == 4)
        await _eventually(lambda: _waits_for_signal(store, "wf"))
        await host.signal("wf", "more", encode(10), "request-1")
        assert await result(host, "wf") == 13
        host.close()

    run(scenario)
    assert_valid(store, "wf", steps_then_signal)


# --- refusals and fencing ----------------------------------------------------------------------


def test_a_refused_batch_is_rebuilt_from_the_store_and_nothing_is_duplicated(
    store: HistoryStore,
) -> None:
    async def scenario() -> None:
        refuse = Fault("refuse", of("wf", ev.ActivityCompleted))
        transport = StoreTransport(store, refuse)
        host = AsyncHost(transport, holder="host-a")
        await start(host, steps_then_signal, None, "wf")
        await _eventually(lambda: _waits_for_signal(store, "wf"))
        await host.signal("wf", "more", encode(10), "request-1")
        assert await result(host, "wf") == 13
        host.close()
        assert refuse.applied == 1
        acquiring = [r for b in transport.batches for r in b if r.acquire is not None]
        assert len(acquiring) == 2  # the start, then the rebuild's new lease

    run(scenario)
    assert_valid(store, "wf", steps_then_signal)
    history = store.read_history("wf")
    completed = [e.activity_id for e in history if isinstance(e, ev.ActivityCompleted)]
    assert completed == [1, 2]


def test_a_fenced_host_lets_the_workflow_go_and_its_successor_finishes_it(
    store: HistoryStore,
) -> None:
    async def scenario() -> None:
        fence = Fault("fence", of("wf", ev.SignalReceived))
        transport = StoreTransport(store, fence)
        old = AsyncHost(transport, holder="host-a")
        await start(old, steps_then_signal, None, "wf")
        await _eventually(lambda: _waits_for_signal(store, "wf"))
        with pytest.raises(FencedError):
            await old.signal("wf", "more", encode(1), "from-the-zombie")
        assert "wf" not in old.hosted()  # a zombie: it neither rebuilds nor writes again
        assert transport.woken == ["wf"]  # the control plane is asked who holds it
        successor = AsyncHost(StoreTransport(store), holder="host-b")
        successor.register([steps_then_signal])
        assert await successor.resume(["wf"]) == {"wf": store.read_history("wf")[0].run_id}
        await successor.signal("wf", "more", encode(10), "request-1")
        assert await result(successor, "wf") == 13
        old.close()
        successor.close()

    run(scenario)
    assert_valid(store, "wf", steps_then_signal)
    received = [e.request_id for e in store.read_history("wf") if isinstance(e, ev.SignalReceived)]
    assert received == ["request-1"]  # the fenced host's signal never landed


def test_a_start_whose_outcome_stays_unknown_is_rebuilt_not_orphaned(
    store: HistoryStore,
) -> None:
    """The start landed but no try heard so: the caller hears the error, and the host
    rebuilds the workflow from what landed instead of leaving it open with no host."""

    async def scenario() -> None:
        lost_always = Fault("lose", of("wf", ev.WorkflowStarted), times=4)  # every retry
        transport = StoreTransport(store, lost_always)
        host = AsyncHost(transport, holder="host-a")
        with pytest.raises(StoreError):
            await start(host, fan_out, 2, "wf")
        await _eventually(lambda: isinstance(store.read_history("wf")[-1], ev.WorkflowCompleted))
        assert "wf" not in host.hosted()  # it ran to its end, and left
        host.close()

    run(scenario)
    assert_valid(store, "wf", fan_out)


def test_a_fenced_host_stops_the_attempts_and_timers_of_the_workflow(
    store: HistoryStore,
) -> None:
    async def scenario() -> None:
        fence = Fault("fence", of("wf", ev.SignalReceived))
        transport = StoreTransport(store, fence, gate=Gate(size=2))  # the attempt hangs
        host = AsyncHost(transport, holder="host-a")
        await start(host, busy_and_sleeping, None, "wf")
        await _eventually(
            lambda: "wf" in host.attempts.workflows() and bool(host.timers.keys("wf"))
        )
        with pytest.raises(FencedError):
            await host.signal("wf", "late", encode(1), "request-1")
        await _eventually(lambda: "wf" not in host.attempts.workflows())
        assert host.timers.keys("wf") == []
        assert "wf" not in host.hosted()
        assert transport.woken == ["wf"]
        host.close()

    run(scenario)


@aion.workflow
async def busy_and_sleeping(ctx: aion.WorkflowContext) -> None:
    await asyncio.gather(ctx.run(plus_one, 1), ctx.sleep(30))


async def _eventually(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


def _waits_for_signal(store: HistoryStore, wid: str) -> bool:
    """Both steps are recorded complete (the workflow now waits for its signal)."""
    history = store.read_history(wid)
    return sum(isinstance(e, ev.ActivityCompleted) for e in history) == 2
