"""Calling engine actors: their errors reach callers as AionErrors, never as Ray's wrappers."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import ray

from aion_ray.errors import AionError, EngineUnavailableError

ACTOR_GONE = "the actor died"
ACTOR_UNREACHABLE = "the actor cannot be reached for now (it may be restarting)"


async def call(ref: Any, actor: str = "engine actor") -> Any:
    """Await an actor call; an AionError it raised is re-raised as itself."""
    try:
        return await ref
    except ray.exceptions.RayError as exc:
        raise translated(exc, actor) from None


def get(ref: Any, actor: str = "engine actor", timeout: float | None = None) -> Any:
    """``call`` for synchronous callers; TimeoutError if ``timeout`` passes first."""
    try:
        return ray.get(ref, timeout=timeout)
    except ray.exceptions.GetTimeoutError:
        raise TimeoutError(f"no answer from {actor} within {timeout}s") from None
    except ray.exceptions.RayError as exc:
        raise translated(exc, actor) from None


def in_background(held: set[asyncio.Task[None]], work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` as a task on the running loop, kept in ``held`` until it ends (the loop
    itself keeps only a weak reference to a task)."""
    task = asyncio.get_running_loop().create_task(work)
    held.add(task)
    task.add_done_callback(held.discard)


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


def actor_gone(error: BaseException) -> bool:
    """Whether ``error`` says the called actor died or cannot be reached (rather than
    failed in a call): told by the error's type and state, never by its message."""
    return isinstance(error, EngineUnavailableError) and error.gone
