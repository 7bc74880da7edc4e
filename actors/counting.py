"""Call counting for the benchmarks, in one place: ``@counted`` on an actor class counts
each call of its public methods in ``self.calls`` (a Counter the actor owns), by method
name. Housekeeping calls (``HOUSEKEEPING``) are not counted: they are not on any workflow's
path."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

C = TypeVar("C", bound=type)

HOUSEKEEPING = frozenset({"stats", "watch", "pid", "ready", "alive", "idle", "where", "health"})


def counted(cls: C) -> C:
    """Wrap every public coroutine (or async generator) method of ``cls`` to count it."""
    for name, method in list(vars(cls).items()):
        if name.startswith("_") or name in HOUSEKEEPING:
            continue
        if inspect.isasyncgenfunction(method):
            setattr(cls, name, _counting_stream(name, method))
        elif inspect.iscoroutinefunction(method):
            setattr(cls, name, _counting_call(name, method))
    return cls


def _counting_call(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls[name] += 1
        return await method(self, *args, **kwargs)

    return call


def _counting_stream(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    async def stream(self: Any, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        self.calls[name] += 1
        async for item in method(self, *args, **kwargs):
            yield item

    return stream
