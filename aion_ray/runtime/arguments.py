"""Checks of the arguments workflow code passes to ``ctx``: durations and names.

A bad one raises ``InvalidInputError`` naming what was wrong, before any command is issued,
so nothing is recorded for it.
"""

from __future__ import annotations

import math
from datetime import timedelta

from aion_ray.errors import InvalidInputError
from aion_ray.model.events import MAX_DURATION_SECONDS


def checked_seconds(duration: float | timedelta) -> float:
    """``duration`` in seconds: a non-negative, finite number up to a century."""
    seconds = duration.total_seconds() if isinstance(duration, timedelta) else duration
    if not isinstance(seconds, int | float) or math.isnan(seconds) or seconds < 0:
        raise InvalidInputError(
            f"a duration must be a non-negative number or timedelta, got {duration!r}"
        )
    if math.isinf(seconds) or seconds > MAX_DURATION_SECONDS:
        raise InvalidInputError(
            f"a duration must be finite and at most a century, got {duration!r}; to wait "
            "forever, wait for a signal"
        )
    return float(seconds)


def checked_name(value: object, what: str) -> str:
    """``value`` if it is a non-empty str; ``what`` names it in the error."""
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"{what} must be a non-empty str, got {value!r}")
    return value
