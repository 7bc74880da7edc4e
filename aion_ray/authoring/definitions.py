"""The authoring API's decorators: ``@workflow`` and ``@activity``, and their options.

A decorated function stays callable as before; the decorator attaches a definition that says
how the engine runs it: its name (recorded in history), the types its input and result decode
to, and for activities the retry policy, timeout and Ray resources.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import inspect
import sys
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, ParamSpec, TypeVar, overload

from pydantic import BaseModel, ConfigDict, Field

from aion_ray.authoring.heartbeat import heartbeat
from aion_ray.authoring.hosting import Hosting
from aion_ray.authoring.retry import RetryPolicy as RetryPolicy  # its import path before
from aion_ray.errors import InvalidInputError
from aion_ray.model.events import MAX_DURATION_SECONDS
from aion_ray.model.payload import CodecName

P = ParamSpec("P")
R = TypeVar("R")


class ActivityOptions(BaseModel):
    """How one activity call runs; ``ctx.run(fn, ..., **options)`` overrides the decorator's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    retry: RetryPolicy = RetryPolicy()
    timeout: float | None = Field(default=None, gt=0)
    heartbeat_timeout: float | None = Field(default=None, gt=0)
    num_cpus: float = Field(default=1.0, ge=0)
    num_gpus: float = Field(default=0.0, ge=0)
    resources: dict[str, float] = Field(default_factory=dict)
    memory: int | None = Field(default=None, ge=0)
    runtime_env: dict[str, Any] | None = None
    local: bool = False
    codec: CodecName = "json"


@dataclass(frozen=True)
class ActivityDefinition(Generic[P, R]):
    """An activity: a plain function plus the options it runs with."""

    name: str
    fn: Callable[P, R]
    options: ActivityOptions
    param_types: tuple[Any, ...]
    result_type: Any
    arity: tuple[int, int | None] = (0, None)

    def check_arguments(self, args: tuple[Any, ...]) -> None:
        """Raise InvalidInputError if ``fn`` cannot take ``len(args)`` positional arguments."""
        least, most = self.arity
        if len(args) < least or (most is not None and len(args) > most):
            expected = f"{least}" if least == most else f"{least} to {most or 'any'}"
            raise InvalidInputError(
                f"activity {self.name} takes {expected} argument(s), got {len(args)}"
            )

    def __reduce_ex__(self, protocol: Any) -> Any:
        return _reduced(self, self.fn) or super().__reduce_ex__(protocol)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the plain function (outside a workflow an activity is just a function)."""
        return self.fn(*args, **kwargs)

    def with_options(self, **overrides: Any) -> ActivityOptions:
        """The decorator's options with ``overrides`` applied; bad options raise clearly."""
        if not overrides:
            return self.options
        unknown = set(overrides) - set(ActivityOptions.model_fields)
        if unknown:
            raise InvalidInputError(
                f"unknown activity option(s) {sorted(unknown)} for {self.name}; "
                f"valid options: {sorted(ActivityOptions.model_fields)}"
            )
        try:
            return ActivityOptions.model_validate({**self.options.model_dump(), **overrides})
        except ValueError as exc:
            raise InvalidInputError(f"invalid options for activity {self.name}: {exc}") from exc


@dataclass(frozen=True)
class WorkflowDefinition(Generic[R]):
    """A workflow: an ``async def (ctx, [arg])`` plus its name, types and fingerprint."""

    name: str
    fn: Callable[..., Awaitable[R]]
    input_type: Any
    takes_input: bool
    result_type: Any
    codec: CodecName
    timeout: float | None
    fingerprint: str
    # A class-level default (Hosting is frozen): definitions pickled by value before this
    # field existed unpickle without it and read this one.
    hosting: Hosting = Hosting()  # noqa: RUF009

    def __reduce_ex__(self, protocol: Any) -> Any:
        return _reduced(self, self.fn) or super().__reduce_ex__(protocol)


def _reduced(definition: object, fn: Callable[..., Any]) -> tuple[Any, tuple[str, str]] | None:
    """Pickle a definition by its import path when it is importable (a worker imports it);
    one defined in ``__main__`` or inside a function is pickled by value instead."""
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if module in (None, "__main__") or "<locals>" in qualname or module not in sys.modules:
        return None
    try:
        found = _attribute(sys.modules[module], qualname)
    except AttributeError:
        return None
    return (import_definition, (module, qualname)) if found is definition else None


def import_definition(module: str, qualname: str) -> Any:
    """The workflow or activity definition at ``module:qualname``."""
    return _attribute(importlib.import_module(module), qualname)


def _attribute(owner: Any, qualname: str) -> Any:
    for part in qualname.split("."):
        owner = getattr(owner, part)
    return owner


def _hints(fn: Callable[..., Any], localns: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn, localns=localns)
    except Exception:  # unresolvable forward references: decode to plain JSON instead
        return {}


def _caller_locals(depth: int) -> dict[str, Any] | None:
    """Locals of the code that applied a decorator, so types defined beside a workflow in a
    function body (common in tests and notebooks) still resolve."""
    frame = inspect.currentframe()
    for _ in range(depth + 1):
        frame = frame.f_back if frame is not None else None
    return dict(frame.f_locals) if frame is not None else None


def _fingerprint(fn: Callable[..., Any]) -> str:
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        source = fn.__qualname__
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def define_activity(
    fn: Callable[P, R],
    name: str | None = None,
    localns: dict[str, Any] | None = None,
    **options: Any,
) -> ActivityDefinition[P, R]:
    """Build an ActivityDefinition for ``fn`` (used by ``@activity`` and for plain callables)."""
    if not callable(fn):
        raise InvalidInputError(f"an activity must be callable, got {type(fn).__name__}")
    hints = _hints(fn, localns)
    try:
        signature: inspect.Signature | None = inspect.signature(fn)
    except (TypeError, ValueError):  # some builtins have none: the call itself will complain
        signature = None
    params = list(signature.parameters.values()) if signature else []
    base = ActivityDefinition(
        name=name or str(getattr(fn, "__name__", type(fn).__name__)),
        fn=fn,
        options=ActivityOptions(),
        param_types=tuple(hints.get(p.name, Any) for p in params),
        result_type=hints.get("return", Any),
        arity=_arity(params) if signature else (0, None),
    )
    return dataclasses.replace(base, options=base.with_options(**options))


def _arity(params: list[inspect.Parameter]) -> tuple[int, int | None]:
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    required = [p for p in params if p.kind in positional and p.default is p.empty]
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return len(required), None
    return len(required), sum(1 for p in params if p.kind in positional)


@overload
def activity(fn: Callable[P, R], /) -> ActivityDefinition[P, R]: ...
@overload
def activity(
    *, name: str | None = None, **options: Any
) -> Callable[[Callable[P, R]], ActivityDefinition[P, R]]: ...
def activity(fn: Any = None, /, *, name: str | None = None, **options: Any) -> Any:
    """Declare an activity, bare (``@activity``) or with options (``@activity(retry=...)``)."""
    localns = _caller_locals(1)
    if fn is not None:
        return define_activity(fn, name, localns, **options)
    return lambda f: define_activity(f, name, localns, **options)


def define_workflow(
    fn: Callable[..., Awaitable[Any]],
    name: str | None = None,
    codec: CodecName = "json",
    timeout: float | None = None,
    localns: dict[str, Any] | None = None,
    hosting: Hosting | None = None,
) -> WorkflowDefinition[Any]:
    """Build a WorkflowDefinition, checking that ``fn`` is ``async def (ctx, [arg])``."""
    if not inspect.iscoroutinefunction(fn):
        raise InvalidInputError(f"workflow {getattr(fn, '__name__', fn)!r} must be an async def")
    params = list(inspect.signature(fn).parameters.values())
    if not 1 <= len(params) <= 2:
        raise InvalidInputError(
            f"workflow {fn.__name__} must take (ctx) or (ctx, arg); it takes {len(params)} "
            "parameters (pass several values as one model or dict)"
        )
    if timeout is not None and not 0 < timeout <= MAX_DURATION_SECONDS:
        raise InvalidInputError(
            f"workflow timeout must be a positive number of seconds up to a century, got {timeout}"
        )
    hints = _hints(fn, localns)
    return WorkflowDefinition(
        name=name or fn.__name__,
        fn=fn,
        input_type=hints.get(params[1].name, Any) if len(params) == 2 else type(None),
        takes_input=len(params) == 2,
        result_type=hints.get("return", Any),
        codec=codec,
        timeout=timeout,
        fingerprint=_fingerprint(fn),
        hosting=hosting or Hosting(),
    )


@overload
def workflow(fn: Callable[..., Awaitable[R]], /) -> WorkflowDefinition[R]: ...
@overload
def workflow(
    *,
    name: str | None = None,
    codec: CodecName = "json",
    timeout: float | None = None,
    workflows_per_actor: int | None = None,
    idle_timeout: float | None = None,
) -> Callable[[Callable[..., Awaitable[R]]], WorkflowDefinition[R]]: ...
def workflow(
    fn: Any = None,
    /,
    *,
    name: str | None = None,
    codec: CodecName = "json",
    timeout: float | None = None,
    workflows_per_actor: int | None = None,
    idle_timeout: float | None = None,
) -> Any:
    """Declare a workflow, bare (``@workflow``) or with options (``@workflow(name=...)``;
    ``workflows_per_actor`` and ``idle_timeout`` override ``aion.connect``'s for this type)."""
    localns = _caller_locals(1)
    if fn is not None:
        return define_workflow(fn, name, codec, timeout, localns)
    hosting = Hosting(workflows_per_actor, idle_timeout)
    return lambda f: define_workflow(f, name, codec, timeout, localns, hosting)


activity.heartbeat = heartbeat  # type: ignore[attr-defined]  # aion.activity.heartbeat(...)
