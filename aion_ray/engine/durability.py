"""Durability on an AsyncHost: how far each hosted workflow's history is in the store, and
who waits for which head.

A caller that must not answer before a record is durable (a start, a signal, a cancel)
waits here; the pump tells this object what each append acknowledged or refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aion_ray.engine.driver import WorkflowDriver
from aion_ray.errors import AionError

Waiting = list[tuple[int, asyncio.Future[None]]]
"""(head awaited, the future told when it is durable) of one workflow."""


class Durability:
    """The acknowledged heads of hosted workflows and the waits on them."""

    def __init__(self, mark: Callable[[WorkflowDriver], None], kick: Callable[[], None]) -> None:
        """``mark``: ask the pump to append a driver now; ``kick``: wake the pump."""
        self._mark = mark
        self._kick = kick
        self._heads: dict[str, int] = {}  # workflow id -> head acknowledged by the store
        self._waiting: dict[str, Waiting] = {}

    async def wait(self, driver: WorkflowDriver) -> None:
        """Until everything ``driver`` has recorded so far is in the store (raises the
        store's refusal if its append fails)."""
        target = driver.recorder.head
        if self._heads.get(driver.workflow_id, -1) >= target and driver.lease is not None:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(driver.workflow_id, []).append((target, waiter))
        self._mark(driver)
        self._kick()
        await waiter

    def waited(self) -> list[str]:
        """The workflows someone waits on (the pump appends them now)."""
        return list(self._waiting)

    def is_waited(self, workflow_id: str) -> bool:
        return workflow_id in self._waiting

    def is_durable(self, driver: WorkflowDriver) -> bool:
        """Whether everything ``driver`` recorded is acknowledged by the store."""
        return self._heads.get(driver.workflow_id) == driver.recorder.head

    def acknowledged(self, workflow_id: str, head: int) -> None:
        self._heads[workflow_id] = head

    def settle(self, workflow_id: str, failure: AionError | None) -> None:
        """Wake the waits whose records are now durable, or fail them all with ``failure``
        (the append that carried them was refused)."""
        head = self._heads.get(workflow_id, -1)
        still: Waiting = []
        for target, waiter in self._waiting.pop(workflow_id, []):
            if waiter.done():
                continue
            if failure is not None:
                waiter.set_exception(failure)
            elif head >= target:
                waiter.set_result(None)
            else:
                still.append((target, waiter))
        if still:
            self._waiting[workflow_id] = still

    def forget(self, workflow_id: str, error: AionError | None = None) -> None:
        """The workflow left (or its head is unknown now): drop its head, and fail its
        waits with ``error`` if given."""
        self._heads.pop(workflow_id, None)
        if error is None:
            return
        for _, waiter in self._waiting.pop(workflow_id, []):
            if not waiter.done():
                waiter.set_exception(error)
