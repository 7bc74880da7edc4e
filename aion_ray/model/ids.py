"""Workflow and run identifiers.

Generated ids are UUIDv7 (RFC 9562): time-ordered, so stores can cluster rows by them and ids
sort by creation time. Users may also choose their own workflow ids (``"nightly-2026-11-27"``).
"""

from __future__ import annotations

import os
import unicodedata
import uuid
from collections.abc import Callable
from typing import NewType

from aion_ray.errors import InvalidInputError
from aion_ray.model.clock import Clock, SystemClock, epoch_millis

WorkflowId = NewType("WorkflowId", str)
RunId = NewType("RunId", str)

MAX_WORKFLOW_ID_LENGTH = 255
_SYSTEM_CLOCK = SystemClock()


RandomBytes = Callable[[int], bytes]


def uuid7(clock: Clock = _SYSTEM_CLOCK, random_bytes: RandomBytes = os.urandom) -> uuid.UUID:
    """A UUIDv7: 48 bits of Unix milliseconds, then 74 random bits."""
    millis = epoch_millis(clock) & ((1 << 48) - 1)
    rand = int.from_bytes(random_bytes(10), "big")
    value = (millis << 80) | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64
    value |= (0b10 << 62) | (rand & ((1 << 62) - 1))
    return uuid.UUID(int=value)


def new_workflow_id(
    clock: Clock = _SYSTEM_CLOCK, random_bytes: RandomBytes = os.urandom
) -> WorkflowId:
    """A fresh, time-ordered workflow id."""
    return WorkflowId(str(uuid7(clock, random_bytes)))


def new_run_id(clock: Clock = _SYSTEM_CLOCK, random_bytes: RandomBytes = os.urandom) -> RunId:
    """A fresh, time-ordered run id."""
    return RunId(str(uuid7(clock, random_bytes)))


def validate_workflow_id(value: object) -> WorkflowId:
    """Check a user-supplied workflow id; raise InvalidInputError naming what is wrong."""
    if not isinstance(value, str):
        raise InvalidInputError(f"workflow id must be a str, got {type(value).__name__}")
    if not value or value.strip() != value:
        raise InvalidInputError(f"workflow id {value!r} must be non-empty without outer spaces")
    if len(value) > MAX_WORKFLOW_ID_LENGTH:
        raise InvalidInputError(
            f"workflow id is {len(value)} characters; the limit is {MAX_WORKFLOW_ID_LENGTH}"
        )
    # isprintable() is a fast C check that is True for every id without control characters.
    if not value.isprintable() and any(unicodedata.category(ch) == "Cc" for ch in value):
        raise InvalidInputError(f"workflow id {value!r} contains control characters")
    return WorkflowId(value)
