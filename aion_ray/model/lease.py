"""Lease: the right to append to one workflow's history, fenced by its epoch."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Lease(BaseModel):
    """The right to append to one workflow's history; a newer epoch fences older holders."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow_id: str
    epoch: int = Field(ge=1)
    holder: str = ""
