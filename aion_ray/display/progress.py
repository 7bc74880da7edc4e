"""``aion.wait``: wait for many workflows, optionally with a progress bar (``tqdm.auto``: a
widget in Jupyter, a text bar in a terminal) counting completed, failed and running ones."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, Protocol

from aion_ray.errors import AionError, InvalidInputError


class Waitable(Protocol):
    """What ``wait`` needs of a handle: its id and a result wait with a timeout."""

    workflow_id: str

    def result(self, timeout: float | None = None) -> Any: ...


class AsyncWaitable(Protocol):
    workflow_id: str

    async def result_async(self, timeout: float | None = None) -> Any: ...


def wait(
    handles: Sequence[Waitable], *, timeout: float | None = None, progress: bool = False
) -> list[Any]:
    """Wait for every workflow in ``handles``; per handle, in order, its result or the error
    that ended it (a WorkflowFailedError, ...; a TimeoutError if ``timeout`` seconds, for
    all of them together, passed first). Errors other than those are raised."""
    checked, deadline = _checked(handles, timeout, "result")
    bar = Progress(len(checked), progress)
    outcomes: list[Any] = []
    try:
        for handle in checked:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            outcome = _settled(handle.result, left)
            bar.count(outcome)
            outcomes.append(outcome)
    finally:
        bar.close()
    return outcomes


async def wait_async(
    handles: Sequence[AsyncWaitable], *, timeout: float | None = None, progress: bool = False
) -> list[Any]:
    """``wait`` for asyncio: the waits run concurrently, the bar moves as each one ends."""
    checked, _ = _checked(handles, timeout, "result_async")
    bar = Progress(len(checked), progress)

    async def settle(handle: AsyncWaitable) -> Any:
        try:
            outcome: Any = await handle.result_async(timeout)
        except (AionError, TimeoutError) as exc:
            outcome = exc
        bar.count(outcome)
        return outcome

    try:
        return list(await asyncio.gather(*(settle(h) for h in checked)))
    finally:
        bar.close()


def _settled(result: Any, timeout: float | None) -> Any:
    try:
        return result(timeout)
    except (AionError, TimeoutError) as exc:
        return exc


def _checked(handles: object, timeout: object, method: str) -> tuple[list[Any], float | None]:
    """The handles as a list and the deadline, or InvalidInputError naming what is wrong."""
    if isinstance(handles, str | bytes) or not isinstance(handles, Sequence):
        raise InvalidInputError(f"wait needs a list of workflow handles, got {handles!r}")
    for handle in handles:
        if not callable(getattr(handle, method, None)):
            raise InvalidInputError(f"wait needs workflow handles, got {handle!r}")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0
    ):
        raise InvalidInputError(f"timeout must be None or seconds >= 0, got {timeout!r}")
    deadline = None if timeout is None else time.monotonic() + float(timeout)
    return list(handles), deadline


class Progress:
    """Counts workflows as they end; draws a tqdm bar when asked to (else nothing)."""

    def __init__(self, total: int, show: bool) -> None:
        self.total = total
        self.completed = 0
        self.failed = 0
        self._bar: Any = None
        if show:
            from tqdm.auto import tqdm  # noqa: PLC0415 - optional: only a shown bar needs it

            self._bar = tqdm(total=total, desc="workflows", unit="wf")
            self._bar.set_postfix_str(self.summary())

    @property
    def running(self) -> int:
        return self.total - self.completed - self.failed

    def summary(self) -> str:
        return f"completed={self.completed} failed={self.failed} running={self.running}"

    def count(self, outcome: object) -> None:
        """Count one ended wait; a TimeoutError leaves its workflow counted as running."""
        if isinstance(outcome, TimeoutError):
            return
        if isinstance(outcome, BaseException):
            self.failed += 1
        else:
            self.completed += 1
        if self._bar is not None:
            self._bar.set_postfix_str(self.summary(), refresh=False)
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
