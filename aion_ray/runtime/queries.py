"""Answering a query: a read-only call of a handler the workflow registered.

While a handler runs, the run refuses durable calls (``in_query``), so a query can never add
to the history. A handler that fails, or is async, is reported as a ``QueryError``.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aion_ray.errors import QueryError

if TYPE_CHECKING:
    from aion_ray.runtime.run import WorkflowRun


def answer_query(run: WorkflowRun, name: str, args: Sequence[Any]) -> Any:
    """``run``'s answer to query ``name`` with ``args``; never changes the run."""
    workflow_id = run.started.workflow_id
    handlers = run.context.query_handlers if run.context else {}
    handler = handlers.get(name)
    if handler is None:
        known = ", ".join(sorted(handlers)) or "none"
        raise QueryError(workflow_id, name, f"no such query (registered: {known})")
    run.in_query = True
    try:
        answer = handler(*args)
    except Exception as exc:
        raise QueryError(workflow_id, name, f"handler failed: {type(exc).__name__}: {exc}") from exc
    finally:
        run.in_query = False
    if inspect.isawaitable(answer):
        getattr(answer, "close", lambda: None)()
        raise QueryError(workflow_id, name, "query handlers must not be async")
    return answer
