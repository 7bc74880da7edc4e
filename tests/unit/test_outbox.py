"""Outbox (``engine/outbox.py``): a message the control plane did not take is sent again
until it is taken; one it refused for another reason is not sent again."""

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
        outbox.send("signal r-1", receiver.take)
        await _drained(outbox)

    asyncio.run(scenario())
    assert (receiver.tries, receiver.taken) == (8, 1)


def test_a_refused_message_is_not_sent_again() -> None:
    receiver = Receiver(away=0, refuses=True)

    async def scenario() -> None:
        outbox = Outbox(pauses=(0,))
        outbox.send("signal r-1", receiver.take)
        await _drained(outbox)

    asyncio.run(scenario())
    assert (receiver.tries, receiver.taken) == (1, 0)


def test_closing_stops_the_messages_in_flight() -> None:
    receiver = Receiver(away=10**9)

    async def scenario() -> None:
        outbox = Outbox(pauses=(0,))
        outbox.send("signal r-1", receiver.take)
        await asyncio.sleep(0)
        outbox.close()
        await _drained(outbox)

    asyncio.run(scenario())
    assert receiver.taken == 0
