"""How the writer thread hands each request's outcome back to its caller.

A thread caller blocks on a ``concurrent.futures.Future``. An asyncio caller awaits a future
of its own event loop, which only that loop's thread may resolve: waking the loop costs a
self-pipe write, so the writer collects every outcome of a group first and wakes each loop
once per group instead of once per request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Reply:
    """Where one request's outcome goes: ``future`` for a thread, ``waiter`` (of ``loop``)
    for an asyncio task. Futures are made only where used: each costs a lock and a condition."""

    future: Future[Any] | None = None
    loop: asyncio.AbstractEventLoop | None = None
    waiter: asyncio.Future[Any] | None = None
    answered: bool = False
    """Whether an outcome was given (set by ``Replies.add``)."""


@dataclass
class Replies:
    """Outcomes of one round of requests, delivered together by ``send``."""

    _by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Reply, Any, BaseException | None]]] = (
        field(default_factory=lambda: defaultdict(list))
    )

    def add(self, reply: Reply, *, result: Any = None, error: BaseException | None = None) -> None:
        reply.answered = True
        if reply.future is not None:
            _settle(reply.future, result, error)
        elif reply.loop is not None:
            self._by_loop[reply.loop].append((reply, result, error))

    def send(self) -> None:
        """Resolve the asyncio waiters, one loop wake-up per event loop."""
        for loop, outcomes in self._by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody awaits these
                loop.call_soon_threadsafe(_resolve_waiters, outcomes)
        self._by_loop.clear()


def _resolve_waiters(outcomes: list[tuple[Reply, Any, BaseException | None]]) -> None:
    for reply, result, error in outcomes:
        waiter = reply.waiter
        if waiter is None or waiter.done():
            continue  # cancelled by its caller meanwhile (its append may still have landed)
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(result)


def _settle(future: Future[Any], result: Any, error: BaseException | None) -> None:
    """Resolve ``future`` unless its caller gave up on it."""
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    except InvalidStateError:
        pass  # cancelled meanwhile, from the caller's thread
