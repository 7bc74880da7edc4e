"""What every event shares: the envelope (``EventBase``) and the field types events use.

Ids, seqs and attempts are bounded to what the store keeps (BIGINT), durations to a century,
and every time is aware UTC (an aware time in another zone is converted).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

MAX_INT64 = 2**63 - 1
"""Ids, seqs and attempts are stored as BIGINT: larger values are refused up front."""
MAX_DURATION_SECONDS = 100 * 366 * 86400
"""The longest timeout or sleep accepted: a century."""

SearchAttributeValue = (
    str
    | Annotated[int, Field(ge=-MAX_INT64 - 1, le=MAX_INT64)]
    | Annotated[float, Field(allow_inf_nan=False)]
    | bool
    | list[str]
)


def _to_utc(value: datetime) -> datetime:
    return value if value.tzinfo is UTC else value.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


class EventBase(BaseModel):
    """The envelope every event carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow_id: str = Field(min_length=1)
    run_id: str = Field(min_length=1)
    seq: int = Field(ge=1, le=MAX_INT64)
    recorded_at: UtcDatetime
