"""Outbox: the messages a host sends on behalf of its workflows that must arrive (a
workflow's signal to another one, a child's start), sent again until the control plane
has taken them.

The control plane may be restarting when a message is sent: a message it did not take is
sent again after a growing pause, for as long as the host lives, and the receiver
recognises a repeat (a signal by its request id, a child by its id). A host that dies with
messages unsent leaves them in its workflows' histories: the workflow's next host sends
them again when it replays (``WorkflowDriver._rearm``), or, for a run that had ended, when
it is hosted again and found ended (``AsyncEffects.resend``). That is why a run's end is
reported only ``after`` its messages are taken: until then the control plane holds the
workflow at this host, and re-places it if the host dies.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence

from aion_ray.authoring.logs import workflow_fields
from aion_ray.errors import AionError, EngineUnavailableError, StoreError

log = logging.getLogger(__name__)

OUTBOX_PAUSES = (0.2, 0.5, 1.0, 2.0, 5.0)
"""Seconds between the tries of a message the control plane did not take (the last one
repeats while the host lives)."""


class Outbox:
    """Messages in flight from one host; see the module docstring."""

    def __init__(self, pauses: Sequence[float] = OUTBOX_PAUSES) -> None:
        self.pauses = pauses
        # The tasks sending (held: the loop keeps weak refs), each with the workflow it is from.
        self._sending: dict[asyncio.Task[None], str] = {}
        self._owed: collections.Counter[str] = collections.Counter()
        self._after: dict[str, list[Callable[[], None]]] = {}

    def send(self, what: str, deliver: Callable[[], Awaitable[None]], owner: str) -> None:
        """Call ``deliver`` until it returns (``what`` names the message in logs; ``owner``
        is the workflow it is from, see ``after``)."""
        task = asyncio.get_running_loop().create_task(self._send(what, deliver, owner))
        self._sending[task] = owner
        self._owed[owner] += 1
        task.add_done_callback(self._sent)

    def after(self, owner: str, then: Callable[[], None]) -> None:
        """Call ``then`` once every message from ``owner`` is taken (now, if none is owed)."""
        if self._owed[owner]:
            self._after.setdefault(owner, []).append(then)
        else:
            then()

    @property
    def pending(self) -> int:
        """Messages not yet taken."""
        return len(self._sending)

    def close(self) -> None:
        """Stop sending (the host is going away: what it owes is in the histories)."""
        self._after.clear()
        for task in list(self._sending):
            task.cancel()

    def _sent(self, task: asyncio.Task[None]) -> None:
        owner = self._sending.pop(task)
        self._owed[owner] -= 1
        if self._owed[owner] == 0:
            del self._owed[owner]
            for then in [] if task.cancelled() else self._after.pop(owner, []):
                then()

    async def _send(self, what: str, deliver: Callable[[], Awaitable[None]], owner: str) -> None:
        fields = workflow_fields(owner)
        pauses = itertools.chain(self.pauses, itertools.repeat(self.pauses[-1]))
        for pause in pauses:
            try:
                await deliver()
                return
            except (EngineUnavailableError, StoreError) as exc:
                log.warning("%s not taken (%s); again in %ss", what, exc, pause, extra=fields)
            except AionError:
                log.exception("%s was refused; it is not sent again", what, extra=fields)
                return
            await asyncio.sleep(pause)
