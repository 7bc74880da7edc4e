"""Outbox: the messages a host sends on behalf of its workflows that must arrive (a
workflow's signal to another one, a child's start), sent again until the control plane
has taken them.

The control plane may be restarting when a message is sent: a message it did not take is
sent again after a growing pause, for as long as the host lives, and the receiver
recognises a repeat (a signal by its request id, a child by its id). A host that dies with
messages unsent leaves them in its workflows' histories: the workflow's next host sends
them again when it replays (``WorkflowDriver._rearm``).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence

from aion_ray.errors import AionError, EngineUnavailableError, StoreError

log = logging.getLogger(__name__)

OUTBOX_PAUSES = (0.2, 0.5, 1.0, 2.0, 5.0)
"""Seconds between the tries of a message the control plane did not take (the last one
repeats while the host lives)."""


class Outbox:
    """Messages in flight from one host; see the module docstring."""

    def __init__(self, pauses: Sequence[float] = OUTBOX_PAUSES) -> None:
        self.pauses = pauses
        self._sending: set[asyncio.Task[None]] = set()  # held: the loop keeps weak refs

    def send(self, what: str, deliver: Callable[[], Awaitable[None]]) -> None:
        """Call ``deliver`` until it returns (``what`` names the message in logs)."""
        task = asyncio.get_running_loop().create_task(self._send(what, deliver))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    @property
    def pending(self) -> int:
        """Messages not yet taken."""
        return len(self._sending)

    def close(self) -> None:
        for task in self._sending:
            task.cancel()

    async def _send(self, what: str, deliver: Callable[[], Awaitable[None]]) -> None:
        pauses = itertools.chain(self.pauses, itertools.repeat(self.pauses[-1]))
        for pause in pauses:
            try:
                await deliver()
                return
            except (EngineUnavailableError, StoreError) as exc:
                log.warning("%s not taken (%s); again in %ss", what, exc, pause)
            except AionError:
                log.exception("%s was refused; it is not sent again", what)
                return
            await asyncio.sleep(pause)
