"""A Ray-task attempt's word that it began running (``alive``) times its heartbeat timeout
only if it comes from the activity's current attempt: a late word from an older attempt must
not move a newer one's deadline. Over AsyncHost and the StoreTransport seam."""

from __future__ import annotations

import asyncio

import aion_ray as aion
from aion_ray.engine.async_host import AsyncHost
from aion_ray.engine.starts import encode_input, start_event
from aion_ray.engine.transport import AttemptKey, Outcome
from aion_ray.model import events as ev
from aion_ray.model.ids import new_run_id
from aion_ray.model.payload import DEFAULT_MAX_PAYLOAD_BYTES
from aion_ray.runtime import commands as cmd
from aion_ray.storage import InMemoryHistoryStore
from tests.engine.store_transport import StoreTransport

HOUR = 3600.0
CALLS: list[int] = []  # the attempts run inline, in this process


@aion.activity(heartbeat_timeout=HOUR, retry=aion.RetryPolicy(initial_interval=0.0))
def second_time_lucky(n: int) -> int:
    CALLS.append(n)
    if len(CALLS) == 1:
        raise RuntimeError("the first attempt fails")
    return n


@aion.workflow
async def beats(ctx: aion.WorkflowContext) -> int:
    return await ctx.run(second_time_lucky, 7)


class HeldTransport(StoreTransport):
    """Attempt 2 waits until the test lets it run."""

    def __init__(self) -> None:
        super().__init__(InMemoryHistoryStore())
        self.second_running = asyncio.Event()
        self.release = asyncio.Event()

    async def run_activity(
        self, command: cmd.ScheduleActivity, max_bytes: int, attempt: AttemptKey
    ) -> Outcome:
        if attempt[3] == 2:
            self.second_running.set()
            await self.release.wait()
        return await super().run_activity(command, max_bytes, attempt)


def test_a_late_alive_of_an_older_attempt_does_not_time_the_current_one() -> None:
    async def scenario() -> None:
        transport = HeldTransport()
        host = AsyncHost(transport, holder="host-a")
        run_id = new_run_id()
        payload = encode_input(beats, None, DEFAULT_MAX_PAYLOAD_BYTES)
        await host.start(beats, "wf", start_event(beats, payload), run_id)
        await transport.second_running.wait()
        timers = host.effects.timers
        dispatched = timers.next_at("wf")  # attempt 2's heartbeat wake, kept untimed
        host.alive("wf", run_id, 1, 1)  # the first attempt's worker started late
        assert timers.next_at("wf") == dispatched
        host.alive("wf", run_id, 1, 2)  # the current attempt's: timed from now
        moved = timers.next_at("wf")
        assert dispatched is not None
        assert moved is not None
        assert moved > dispatched
        transport.release.set()
        end = await host.result("wf", 30)
        assert isinstance(end, ev.WorkflowCompleted), end
        host.close()

    asyncio.run(asyncio.wait_for(scenario(), timeout=60))
