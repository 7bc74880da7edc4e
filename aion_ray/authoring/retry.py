"""RetryPolicy: how an activity's failed attempts are retried."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aion_ray.errors import InvalidInputError


class RetryPolicy(BaseModel):
    """How an activity is retried: ``max_attempts`` counts every attempt, the first included.

    The delay before attempt ``n + 1`` is ``initial_interval * backoff ** (n - 1)``, capped
    at ``max_interval``. Errors whose type name is in ``non_retryable`` fail at once.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=3, ge=1)
    initial_interval: float = Field(default=1.0, ge=0)
    backoff: float = Field(default=2.0, ge=1)
    max_interval: float = Field(default=60.0, ge=0)
    non_retryable: tuple[str, ...] = ()

    if not typing.TYPE_CHECKING:  # mypy keeps the typed signature pydantic's plugin derives

        def __init__(self, **fields: Any) -> None:
            """Raise InvalidInputError (not pydantic's error) naming the first bad field."""
            try:
                super().__init__(**fields)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(part) for part in first["loc"]) or "value"
                raise InvalidInputError(f"invalid RetryPolicy {where}: {first['msg']}") from exc

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based) before the next one."""
        return min(self.initial_interval * self.backoff ** (attempt - 1), self.max_interval)

    def allows_retry(self, attempt: int, error_type: str) -> bool:
        return attempt < self.max_attempts and error_type not in self.non_retryable
