"""AsyncHost's own pump (``engine/async_pump.py``), not the TestEngine's copy of its loop: the
host runs over ``StoreTransport``, a fake of the Transport seam backed by a real store. Every test
checks that the stored history is valid (contiguous, one start, one end, no record twice, and
the workflow's code replays it). Each runs on the in-memory store and on a DuckDB file."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aion_ray as aion
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.engine.async_host import AsyncHost
from aion_ray.engine.starts import encode_input, start_event
from aion_ray.model import events as ev
from aion_ray.model.ids import new_run_id
from aion_ray.model.payload import DEFAULT_MAX_PAYLOAD_BYTES, decode
from aion_ray.model.rows import EncodedEvents
from aion_ray.model.store import AppendRequest
from aion_ray.storage import HistoryStore
from aion_ray.testing.replay import replay
from tests.engine.store_transport import Gate, StoreTransport

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
