"""Signal mailbox: per-name FIFO, where signals that arrive before anyone waits are kept."""

from __future__ import annotations

import asyncio
import collections

from aion_ray.model.payload import Payload


class SignalMailbox:
    """The k-th wait for a name receives the k-th signal of that name, in history order."""

    def __init__(self) -> None:
        self._buffered: dict[str, collections.deque[Payload]] = collections.defaultdict(
            collections.deque
        )
        self._waiters: dict[str, collections.deque[asyncio.Future[Payload]]] = (
            collections.defaultdict(collections.deque)
        )

    def deliver(self, name: str, payload: Payload) -> None:
        """A recorded signal arrived: hand it to the oldest live waiter, or keep it."""
        waiters = self._waiters[name]
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(payload)
                return
        self._buffered[name].append(payload)

    def take(self, name: str, loop: asyncio.AbstractEventLoop) -> asyncio.Future[Payload]:
        """A future for the next signal named ``name`` (already resolved if one is waiting)."""
        future: asyncio.Future[Payload] = loop.create_future()
        buffered = self._buffered[name]
        if buffered:
            future.set_result(buffered.popleft())
        else:
            self._waiters[name].append(future)
        return future

    def pending(self, name: str) -> int:
        """How many signals named ``name`` arrived and are not consumed yet."""
        return len(self._buffered[name])
