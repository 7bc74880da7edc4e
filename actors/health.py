"""``client.health()``: ask the system actors about themselves, each within a bound; an actor
that does not answer is reported as unreachable, with the reason, never raised."""

from __future__ import annotations

import asyncio

from aion_ray.actors.router import Router
from aion_ray.actors.stubs import RegistryStub, StoreStub
from aion_ray.errors import AionError
from aion_ray.model.health import Health, PoolHealth, RegistryHealth, StoreHealth

HEALTH_TIMEOUT = 5.0
"""Seconds each system actor has to answer."""

Answer = tuple[RegistryHealth, PoolHealth, int, int]


def health(registry: RegistryStub, store: StoreStub, router: Router, path: str) -> Health:
    """See the module docstring (blocking)."""
    try:
        stored = store.health().get(HEALTH_TIMEOUT)
    except (AionError, TimeoutError) as exc:
        stored = _unreached_store(path, exc)
    try:
        answer: Answer | BaseException = registry.health().get(HEALTH_TIMEOUT)
    except (AionError, TimeoutError) as exc:
        answer = exc
    return _health(answer, stored, router)


async def health_async(
    registry: RegistryStub, store: StoreStub, router: Router, path: str
) -> Health:
    """``health`` for asyncio callers: both actors asked at once."""
    asked = await asyncio.gather(
        asyncio.wait_for(store.health(), HEALTH_TIMEOUT),
        asyncio.wait_for(registry.health(), HEALTH_TIMEOUT),
        return_exceptions=True,
    )
    stored, answer = asked
    if isinstance(stored, BaseException):
        stored = _unreached_store(path, _checked(stored))
    if isinstance(answer, BaseException):
        answer = _checked(answer)
    return _health(answer, stored, router)


def _health(answer: Answer | BaseException, store: StoreHealth, router: Router) -> Health:
    if isinstance(answer, BaseException):
        registry = RegistryHealth(False, error=_reason(answer))
        return Health(registry, store, None, None, None, router.hosts())
    me, pool, resident, suspended = answer
    return Health(me, store, pool, resident, suspended, router.hosts())


def _unreached_store(path: str, error: BaseException) -> StoreHealth:
    return StoreHealth(False, path, error=_reason(error))


def _checked(error: BaseException) -> BaseException:
    """Only an unreachable actor is reported; anything else is a bug to raise."""
    if isinstance(error, AionError | TimeoutError):
        return error
    raise error


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__
