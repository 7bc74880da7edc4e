"""Outbox (``engine/outbox.py``): a message the control plane did not take is sent again
until it is taken; one it refused for another reason is not sent again; a run's end is
reported once its messages are taken."""

from __future__ import annotations

import asyncio

from aion_ray.engine.outbox import Outbox
from aion_ray.errors import EngineUnavailableError, InvalidInputError


class Receiver:
    def __init__(self, away: int, refuses: bool = False) -> None:
        self.away = away
        self.refuses = refuses
        self.tries = 0
        self.taken = 0

    async def take(self) -> None:
        self.tries += 1
        if self.refuses:
            raise InvalidInputError("not a message it takes")
        if self.away:
            self.away -= 1
            raise EngineUnavailableError("aion-registry", "restarting", state="unreachable")
        self.taken += 1


async def _drained(outbox: Outbox) -> None:
    for _ in range(200):
        if not outbox.pending:
            return
        await asyncio.sleep(0)
    raise AssertionError("messages still pending")


def test_a_message_is_sent_again_until_it_is_taken() -> None:
    receiver = Receiver(away=7)  # more tries than pauses: the last pause repeats

    async def scenario() -> None:
        outbox = Outbox(pauses=(0, 0))
        outbox.send("signal r-1", receiver.take, owner="wf-a")
        await _drained(outbox)

    asyncio.run(scenario())
    assert (receiver.tries, receiver.taken) == (8, 1)


def test_a_refused_message_is_not_sent_again() -> None:
    receiver = Receiver(away=0, refuses=True)

    async def scenario() -> None:
        outbox = Outbox(pauses=(0,))
        outbox.send("signal r-1", receiver.take, owner="wf-a")
        await _drained(outbox)

    asyncio.run(scenario())
    assert (receiver.tries, receiver.taken) == (1, 0)


def test_closing_stops_the_messages_in_flight() -> None:
    receiver = Receiver(away=10**9)

    async def scenario() -> None:
        outbox = Outbox(pauses=(0,))
        outbox.send("signal r-1", receiver.take, owner="wf-a")
        await asyncio.sleep(0)
        outbox.close()
        await _drained(outbox)

    asyncio.run(scenario())
    assert receiver.taken == 0


def test_a_run_end_is_reported_after_its_messages_are_taken() -> None:
    slow, other = Receiver(away=3), Receiver(away=0)
    told: list[str] = []

    async def scenario() -> None:
        outbox = Outbox(pauses=(0,))
        outbox.after("idle", lambda: told.append("idle"))  # owes nothing: at once
        assert told == ["idle"]
        outbox.send("signal r-1", slow.take, owner="wf-a")
        outbox.send("signal r-2", other.take, owner="wf-a")
        outbox.send("signal r-3", other.take, owner="wf-b")
        outbox.after("wf-a", lambda: told.append("wf-a"))
        outbox.after("wf-b", lambda: told.append("wf-b"))
        for _ in range(3):
            await asyncio.sleep(0)
        assert told == ["idle", "wf-b"]  # wf-a still owes the message the receiver did not take
        await _drained(outbox)

    asyncio.run(scenario())
    assert told == ["idle", "wf-b", "wf-a"]
    assert slow.taken == 1


def test_a_closed_outbox_reports_no_run_end() -> None:
    told: list[str] = []

    async def scenario() -> None:
        outbox = Outbox(pauses=(0,))
        outbox.send("signal r-1", Receiver(away=10**9).take, owner="wf-a")
        outbox.after("wf-a", lambda: told.append("wf-a"))
        await asyncio.sleep(0)
        outbox.close()
        await _drained(outbox)

    asyncio.run(scenario())
    assert told == []
