"""A client's result waits, many per registry call: concurrent ``result_async`` calls share
one streaming call, which answers each wait as its workflow ends.

Waits that arrive together (in one turn of the client's event loop) go out together; a wait
that arrives while a call is open goes out in the next one, so no wait sits behind another's
workflow. A burst of a thousand waits is then a few calls instead of a thousand.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aion_ray.actors.config import REGISTRY_NAME
from aion_ray.actors.stub import translated
from aion_ray.actors.stubs import RegistryStub
from aion_ray.control.tasks import Background
from aion_ray.errors import AionError, EngineUnavailableError
from aion_ray.model import events as ev

Wait = tuple[str, float | None, "asyncio.Future[ev.Event | None]"]


class ResultStream:
    """Coalesces one client's registry result waits (asyncio callers only)."""

    def __init__(self, registry: RegistryStub) -> None:
        self._registry = registry
        self._batch: list[Wait] = []
        self._sending = Background()

    async def wait(self, workflow_id: str, timeout: float | None) -> ev.Event | None:
        """The end of the workflow's last run (None: ``timeout`` passed first)."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[ev.Event | None] = loop.create_future()
        if not self._batch:
            loop.call_soon(lambda: self._sending.run(self._send()))
        self._batch.append((workflow_id, timeout, answer))
        return await answer

    async def _send(self) -> None:
        batch, self._batch = self._batch, []
        waits = [(workflow_id, timeout) for workflow_id, timeout, _ in batch]
        try:
            async for ref in self._registry.results_stream(waits):
                index, answer = await ref
                _settle(batch[index][2], answer)
        except AionError as exc:
            _fail(batch, exc)
        except Exception as exc:  # the stream itself failed (the registry died)
            _fail(batch, translated(exc, REGISTRY_NAME))
        _fail(batch, EngineUnavailableError(REGISTRY_NAME, "a result stream ended unanswered"))


def _settle(future: asyncio.Future[ev.Event | None], answer: Any) -> None:
    if future.done():
        return
    if isinstance(answer, AionError):
        future.set_exception(answer)
    else:
        future.set_result(answer)


def _fail(batch: list[Wait], error: AionError) -> None:
    for _, _, future in batch:
        if not future.done():
            future.set_exception(error)
