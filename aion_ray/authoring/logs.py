"""Log records that carry the workflow: the fields, and ``aion.activity_logger()``.

Every record the engine writes about a workflow carries ``workflow_id`` and ``run_id`` as
record attributes (``logging``'s ``extra``), so a JSON formatter, a filter or Ray's
structured logging sees them as fields, not only in the message. Inside an activity attempt,
``aion.activity_logger()`` adds ``activity_id``, ``activity_type`` and ``attempt``; outside
one (an activity called as a plain function) it is a plain logger, so activities stay
callable anywhere. ``ctx.logger``, the workflow code's logger, is ``runtime.logger``'s.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, MutableMapping
from contextvars import ContextVar
from typing import Any

ACTIVITY_LOGGER = "aion_ray.activity"
"""The logger ``aion.activity_logger()`` writes to."""

Attempt = tuple[str, str, int, int]
"""(workflow id, run id, activity id, attempt) of a running attempt."""

_ATTEMPT: ContextVar[dict[str, Any] | None] = ContextVar("aion_attempt_fields", default=None)


def workflow_fields(workflow_id: str, run_id: str | None = None) -> dict[str, Any]:
    """The ``extra`` of an engine log line about a workflow (``run_id`` None: not known
    where the line is written)."""
    return {"workflow_id": workflow_id, "run_id": run_id}


class FieldsAdapter(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A LoggerAdapter whose fields are merged into each call's own ``extra`` (the plain
    adapter replaces it), and whose records name the caller's line, not this module's."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        own: Mapping[str, Any] = kwargs.get("extra") or {}
        kwargs["extra"] = {**(self.extra or {}), **own}
        return msg, kwargs

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1  # past this frame
            msg, kwargs = self.process(msg, kwargs)
            self.logger.log(level, msg, *args, **kwargs)


def activity_logger() -> logging.LoggerAdapter:  # type: ignore[type-arg]
    """A logger for activity code: inside an attempt its records carry ``workflow_id``,
    ``run_id``, ``activity_id``, ``activity_type`` and ``attempt``."""
    return FieldsAdapter(logging.getLogger(ACTIVITY_LOGGER), _ATTEMPT.get() or {})


@contextlib.contextmanager
def attempt_logging(activity_type: str, attempt: Attempt | None) -> Iterator[None]:
    """Give ``activity_logger()`` calls in this context (an attempt) its fields."""
    if attempt is None:
        yield
        return
    workflow_id, run_id, activity_id, number = attempt
    fields = workflow_fields(workflow_id, run_id)
    fields.update(activity_id=activity_id, activity_type=activity_type, attempt=number)
    token = _ATTEMPT.set(fields)
    try:
        yield
    finally:
        _ATTEMPT.reset(token)
