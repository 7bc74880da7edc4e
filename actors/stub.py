"""Stubs: every call to an engine actor goes through one, typed per actor kind (``stubs``).

A ``Stub`` names a detached actor (its name and namespace) and holds the handle it last
found by that name. It maps Ray's errors once, by type, never by message:
- an ``AionError`` the actor raised reaches the caller as itself;
- ``ActorUnavailableError`` (the actor cannot be reached for now, it may be restarting):
  the call is sent again a few times with growing pauses (``UNREACHABLE_PAUSES``), then it
  becomes ``EngineUnavailableError(state="unreachable")``;
- ``ActorDiedError`` makes the stub look the name up again: when another actor holds the
  name now (the engine re-created it), the call goes to it once more; otherwise it becomes
  ``EngineUnavailableError(state="died")``.
Only idempotent calls are sent again (ids, request ids and expected heads keep a repeat
single). A call that a repeat would do twice or answer differently (terminate, pause,
cancel, a lifecycle row) is made ``once``: its first failure reaches the caller, who
cannot know whether it was done.

A call is a ``Call``: ``await`` it from asyncio code, ``.get(timeout)`` it from
synchronous code, or take its raw ``ref()`` to wait on it without blocking.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Generator
from typing import Any, Generic, TypeVar

import ray

from aion_ray.errors import AionError, EngineUnavailableError

log = logging.getLogger(__name__)

T = TypeVar("T")

UNREACHABLE_PAUSES = (0.1, 0.3, 1.0, 2.0)
"""Seconds between the tries of a call whose actor cannot be reached for now (it may be
restarting): about 3.4 s in all, then the caller hears ``state="unreachable"``."""
ACTOR_GONE = "the actor died"
ACTOR_UNREACHABLE = "the actor cannot be reached for now (it may be restarting)"


class Call(Generic[T]):
    """One call of ``method`` on a stub's actor, sent when it is awaited or got."""

    def __init__(
        self, stub: Stub, method: str, args: tuple[Any, ...], *, once: bool = False
    ) -> None:
        """``once``: never sent again (see the module docstring)."""
        self._stub = stub
        self._method = method
        self._args = args
        self._pauses = () if once else UNREACHABLE_PAUSES

    def __await__(self) -> Generator[Any, None, T]:
        call = self._stub.call_async(self._method, self._args, self._pauses)
        answer: T = yield from call.__await__()
        return answer

    def get(self, timeout: float | None = None) -> T:
        """Block for the answer; TimeoutError if ``timeout`` seconds pass first."""
        answer: T = self._stub.call_sync(self._method, self._args, timeout, self._pauses)
        return answer

    def ref(self) -> Any:
        """Send the call and return Ray's object ref (for ``ray.wait``), unmapped."""
        return self._stub.send(self._method, self._args)


class Stub:
    """A named engine actor, as callers see it; see the module docstring."""

    def __init__(self, name: str, namespace: str, handle: Any = None) -> None:
        self.name = name
        self.namespace = namespace
        self._handle = handle

    @property
    def handle(self) -> Any:
        """The actor's handle, looked up by name on first use (EngineUnavailableError if
        no actor holds the name)."""
        if self._handle is None:
            self._handle = self._lookup()
            if self._handle is None:
                raise EngineUnavailableError(self.name, ACTOR_GONE, state="died")
        return self._handle

    def send(self, method: str, args: tuple[Any, ...]) -> Any:
        return getattr(self.handle, method).remote(*args)

    async def call_async(
        self, method: str, args: tuple[Any, ...], pauses: tuple[float, ...] = UNREACHABLE_PAUSES
    ) -> Any:
        """The answer, sent again after each of ``pauses`` while unreachable, and once
        more to a renewed actor (neither when ``pauses`` is empty: a ``once`` call)."""
        renewed = not pauses
        for pause in (*pauses, None):
            handle = self.handle
            try:
                return await getattr(handle, method).remote(*args)
            except ray.exceptions.RayError as exc:
                error = translated(exc, self.name)
            if _died(error) and not renewed and self._renewed(handle):
                renewed = True
            elif _unreachable(error) and pause is not None:
                await asyncio.sleep(pause)
            else:
                raise error
        raise AssertionError("unreachable")

    def call_sync(
        self,
        method: str,
        args: tuple[Any, ...],
        timeout: float | None,
        pauses: tuple[float, ...] = UNREACHABLE_PAUSES,
    ) -> Any:
        """Like ``call_async``, blocking; TimeoutError after ``timeout`` seconds."""
        renewed = not pauses
        for pause in (*pauses, None):
            handle = self.handle
            try:
                return ray.get(getattr(handle, method).remote(*args), timeout=timeout)
            except ray.exceptions.GetTimeoutError:
                raise TimeoutError(f"no answer from {self.name} within {timeout}s") from None
            except ray.exceptions.RayError as exc:
                error = translated(exc, self.name)
            if _died(error) and not renewed and self._renewed(handle):
                renewed = True
            elif _unreachable(error) and pause is not None:
                time.sleep(pause)
            else:
                raise error
        raise AssertionError("unreachable")

    def tell(self, method: str, *args: Any) -> bool:
        """A one-way message (no answer awaited); False if it could not be sent."""
        try:
            self.send(method, args)
        except (ray.exceptions.RayError, AionError):
            log.warning("%s missed %s", self.name, method)
            return False
        return True

    def kill(self) -> None:
        """Stop the actor for good (no restart)."""
        ray.kill(self.handle, no_restart=True)

    def _renewed(self, dead: Any) -> bool:
        """Whether another actor holds the name now (then it is the one called)."""
        found = self._lookup()
        if found is None or found == dead:
            return False
        self._handle = found
        return True

    def _lookup(self) -> Any:
        try:
            return ray.get_actor(self.name, namespace=self.namespace)
        except ValueError:  # Ray's answer for "no such actor"
            return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, namespace={self.namespace!r})"


def translated(exc: BaseException, actor: str) -> AionError:
    """The AionError behind a Ray error (an engine actor raised it), or one that says which
    actor failed and how."""
    cause = exc
    while isinstance(cause, ray.exceptions.RayTaskError) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, AionError):
        return cause
    if isinstance(cause, ray.exceptions.ActorUnavailableError):
        return EngineUnavailableError(actor, ACTOR_UNREACHABLE, state="unreachable")
    if isinstance(cause, ray.exceptions.RayActorError):
        return EngineUnavailableError(actor, ACTOR_GONE, state="died")
    first_line = str(cause).splitlines()[0] if str(cause) else ""
    return EngineUnavailableError(actor, f"{type(cause).__name__}: {first_line}")


def _died(error: AionError) -> bool:
    return isinstance(error, EngineUnavailableError) and error.state == "died"


def _unreachable(error: AionError) -> bool:
    return isinstance(error, EngineUnavailableError) and error.state == "unreachable"


def actor_gone(error: BaseException) -> bool:
    """Whether ``error`` says the called actor died or cannot be reached (rather than
    failed in a call): told by the error's type and state, never by its message."""
    return isinstance(error, EngineUnavailableError) and error.gone
