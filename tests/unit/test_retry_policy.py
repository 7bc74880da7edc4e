"""RetryPolicy refuses bad settings with the project's typed error, naming the field."""

from __future__ import annotations

from typing import Any

import pytest

import aion_ray as aion
from aion_ray.errors import InvalidInputError


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": "three"}, "max_attempts"),
        ({"initial_interval": -1.0}, "initial_interval"),
        ({"backoff": 0.5}, "backoff"),
        ({"retries": 3}, "retries"),
    ],
)
def test_bad_settings_raise_invalid_input_naming_the_field(
    fields: dict[str, Any], named: str
) -> None:
    with pytest.raises(InvalidInputError, match=f"RetryPolicy {named}"):
        aion.RetryPolicy(**fields)


def test_good_settings_still_build_copy_and_validate() -> None:
    policy = aion.RetryPolicy(max_attempts=1, initial_interval=0.0)
    assert policy.allows_retry(1, "KeyError") is False
    assert policy.model_copy(update={"max_attempts": 4}).max_attempts == 4
    assert aion.RetryPolicy.model_validate({"max_attempts": 2}).max_attempts == 2
