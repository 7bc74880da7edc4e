"""The deterministic event loop workflow code runs on.

Only recorded events make progress: ready callbacks run in FIFO order until none is left, and
the loop never waits for I/O or wall time. ``loop.time()`` is the workflow's recorded time, and
``call_later``/``call_at`` (which ``asyncio.sleep``, ``wait_for`` and ``timeout`` use) become
durable timers through the ``timers`` hook. Blocking or I/O APIs raise WorkflowUsageError.
"""

from __future__ import annotations

import asyncio
import collections
import contextvars
from collections.abc import Callable, Coroutine, Generator
from typing import Any, Protocol, TypeVar, TypeVarTuple

from aion_ray.errors import WorkflowUsageError

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class DurableTimerHandle(asyncio.TimerHandle):
    """A TimerHandle backed by durable timer ``timer_id`` of the run."""

    __slots__ = ("fire_args", "fire_callback", "fire_context", "timer_id")

    def __init__(
        self,
        timer_id: int,
        when: float,
        callback: Callable[..., object],
        args: tuple[object, ...],
        loop: asyncio.AbstractEventLoop,
        context: contextvars.Context | None,
    ) -> None:
        super().__init__(when, callback, list(args), loop, context)
        self.timer_id = timer_id
        self.fire_callback = callback
        self.fire_args = args
        self.fire_context = context


class TimerHook(Protocol):
    """Turns a delayed callback into a durable timer and a handle that can cancel it."""

    def start_timer(
        self,
        delay: float,
        callback: Callable[..., object],
        args: tuple[object, ...],
        context: contextvars.Context | None,
    ) -> DurableTimerHandle: ...

    def timer_cancelled(self, handle: DurableTimerHandle) -> None: ...


class WorkflowEventLoop(asyncio.AbstractEventLoop):
    """An asyncio loop driven step by step by the workflow runtime."""

    def __init__(self, timers: TimerHook, clock: Callable[[], float]) -> None:
        self._timers = timers
        self._clock = clock
        self._ready: collections.deque[asyncio.Handle] = collections.deque()
        self._running = False
        self._closed = False
        self.unhandled: list[dict[str, Any]] = []

    # --- driving -------------------------------------------------------------------------------

    def run_ready(self) -> None:
        """Run ready callbacks, FIFO, until none is left."""
        previous = asyncio.events._get_running_loop()
        asyncio.events._set_running_loop(self)
        self._running = True
        try:
            while self._ready:
                handle = self._ready.popleft()
                if not handle._cancelled:
                    handle._run()
        finally:
            self._running = False
            asyncio.events._set_running_loop(previous)

    @property
    def has_ready(self) -> bool:
        return bool(self._ready)

    # --- scheduling ----------------------------------------------------------------------------

    def call_soon(
        self,
        callback: Callable[[*Ts], object],
        *args: *Ts,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        handle = asyncio.Handle(callback, args, self, context)
        self._ready.append(handle)
        return handle

    def call_later(
        self,
        delay: float,
        callback: Callable[[*Ts], object],
        *args: *Ts,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        return self._timers.start_timer(max(delay, 0.0), callback, args, context)

    def call_at(
        self,
        when: float,
        callback: Callable[[*Ts], object],
        *args: *Ts,
        context: contextvars.Context | None = None,
    ) -> asyncio.TimerHandle:
        return self.call_later(when - self.time(), callback, *args, context=context)

    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        assert isinstance(handle, DurableTimerHandle)
        self._timers.timer_cancelled(handle)

    def time(self) -> float:
        return self._clock()

    def create_future(self) -> asyncio.Future[Any]:
        return asyncio.Future(loop=self)

    def create_task(
        self,
        coro: Coroutine[Any, Any, T] | Generator[Any, None, T],
        *,
        name: str | None = None,
        context: contextvars.Context | None = None,
    ) -> asyncio.Task[T]:
        return asyncio.Task(coro, loop=self, name=name, context=context)

    # --- state ---------------------------------------------------------------------------------

    def get_debug(self) -> bool:
        return False

    def is_running(self) -> bool:
        return self._running

    def is_closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        self._ready.clear()

    def call_exception_handler(self, context: dict[str, Any]) -> None:
        # A task that failed unobserved: keep it for the host to report; never crash the loop.
        self.unhandled.append(context)

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        self.unhandled.append(context)

    # --- forbidden inside workflows ------------------------------------------------------------

    def _forbidden(self, what: str) -> WorkflowUsageError:
        return WorkflowUsageError(
            f"{what} is not allowed in workflow code: the workflow loop only advances on "
            "recorded events; do blocking work and I/O in an activity (ctx.run)"
        )

    def run_in_executor(
        self, executor: Any, func: Callable[[*Ts], T], *args: *Ts
    ) -> asyncio.Future[T]:
        raise self._forbidden("run_in_executor")

    def call_soon_threadsafe(
        self,
        callback: Callable[[*Ts], object],
        *args: *Ts,
        context: contextvars.Context | None = None,
    ) -> asyncio.Handle:
        raise self._forbidden("call_soon_threadsafe")

    def run_forever(self) -> None:
        raise self._forbidden("run_forever")

    def run_until_complete(self, future: Any) -> Any:
        raise self._forbidden("run_until_complete")

    def stop(self) -> None:
        raise self._forbidden("stopping the loop")
