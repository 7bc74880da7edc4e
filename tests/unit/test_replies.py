"""Replies: outcomes reach thread callers at once and asyncio callers in one wake-up per loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextvars import Context
from typing import Any

import pytest

from aion_ray.storage.duckdb.replies import Replies, Reply


def test_a_thread_caller_gets_its_result_or_error_at_once() -> None:
    ok, failed = Reply(future=Future()), Reply(future=Future())
    replies = Replies()
    replies.add(ok, result=7)
    replies.add(failed, error=ValueError("bad append"))
    assert ok.future is not None
    assert ok.future.result(timeout=0) == 7
    assert failed.future is not None
    with pytest.raises(ValueError, match="bad append"):
        failed.future.result(timeout=0)


def test_a_cancelled_thread_caller_is_skipped() -> None:
    future: Future[Any] = Future()
    future.cancel()
    Replies().add(Reply(future=future), result=1)  # must not raise
    assert future.cancelled()


class CountingLoop(asyncio.SelectorEventLoop):
    """A real event loop that counts its cross-thread wake-ups."""

    wakeups = 0

    def call_soon_threadsafe(  # type: ignore[override]  # counts, then delegates unchanged
        self, callback: Callable[..., object], *args: Any, context: Context | None = None
    ) -> asyncio.Handle:
        self.wakeups += 1
        return super().call_soon_threadsafe(callback, *args, context=context)


def test_asyncio_callers_are_woken_once_per_group_from_another_thread() -> None:
    loop = CountingLoop()

    async def scenario() -> list[Any]:
        waiters = [loop.create_future() for _ in range(50)]
        cancelled = loop.create_future()
        cancelled.cancel()

        def writer_thread() -> None:
            replies = Replies()
            for index, waiter in enumerate(waiters):
                error = KeyError(index) if index == 3 else None
                replies.add(Reply(loop=loop, waiter=waiter), result=index, error=error)
            replies.add(Reply(loop=loop, waiter=cancelled), result="ignored")
            replies.send()

        threading.Thread(target=writer_thread).start()
        return await asyncio.gather(*waiters, return_exceptions=True)

    try:
        outcomes = loop.run_until_complete(scenario())
    finally:
        loop.close()
    assert isinstance(outcomes[3], KeyError)
    assert [o for i, o in enumerate(outcomes) if i != 3] == [i for i in range(50) if i != 3]
    assert loop.wakeups == 1


def test_outcomes_for_a_closed_loop_are_dropped_quietly() -> None:
    loop = asyncio.new_event_loop()
    waiter = loop.create_future()
    loop.close()
    replies = Replies()
    replies.add(Reply(loop=loop, waiter=waiter), result=1)
    replies.send()  # nobody is left to await it: no error, nothing resolved
    assert not waiter.done()
