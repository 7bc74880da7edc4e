"""Identifiers: UUIDv7 layout and ordering, and validation of user-chosen workflow ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from aion_ray.errors import InvalidInputError
from aion_ray.model.ids import (
    MAX_WORKFLOW_ID_LENGTH,
    new_run_id,
    new_workflow_id,
    uuid7,
    validate_workflow_id,
)

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


class SteppingClock:
    """A fake clock whose every reading is ``step`` later than the previous one."""

    def __init__(self, start: datetime = T0, step: timedelta = timedelta(milliseconds=1)) -> None:
        self.current = start - step
        self.step = step

    def now(self) -> datetime:
        self.current += self.step
        return self.current


class FrozenClock:
    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def millis(at: datetime) -> int:
    return (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def test_uuid7_has_version_7_and_the_rfc_variant() -> None:
    for _ in range(1000):
        value = uuid7()
        assert value.version == 7
        assert value.variant == uuid.RFC_4122
        assert (value.int >> 76) & 0xF == 7
        assert (value.int >> 62) & 0b11 == 0b10


def test_uuid7_embeds_the_clock_in_unix_milliseconds() -> None:
    for at in (T0, T0 + timedelta(milliseconds=1), datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)):
        assert uuid7(FrozenClock(at)).int >> 80 == millis(at)


def test_uuid7_ignores_sub_millisecond_precision() -> None:
    at = T0 + timedelta(microseconds=999)
    assert uuid7(FrozenClock(at)).int >> 80 == millis(T0)


def test_uuid7_is_time_ordered_across_milliseconds() -> None:
    clock = SteppingClock()
    ids = [uuid7(clock) for _ in range(2000)]
    assert ids == sorted(ids)
    assert [str(i) for i in ids] == sorted(str(i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_uuid7_orders_by_time_even_with_uneven_steps() -> None:
    clock = SteppingClock(step=timedelta(microseconds=1500))
    ids = [uuid7(clock) for _ in range(1000)]
    stamps = [i.int >> 80 for i in ids]
    assert stamps == sorted(stamps)
    assert ids == sorted(ids)


def test_uuid7_is_unique_within_one_millisecond() -> None:
    clock = FrozenClock()
    ids = {uuid7(clock) for _ in range(20_000)}
    assert len(ids) == 20_000
    assert {i.int >> 80 for i in ids} == {millis(T0)}


def test_uuid7_with_the_system_clock_is_recent() -> None:
    before = millis(datetime.now(UTC))
    stamp = uuid7().int >> 80
    after = millis(datetime.now(UTC))
    assert before <= stamp <= after


def test_new_ids_are_uuid7_strings() -> None:
    clock = SteppingClock()
    workflow_id, run_id = new_workflow_id(clock), new_run_id(clock)
    assert uuid.UUID(workflow_id).version == 7
    assert uuid.UUID(run_id).version == 7
    assert str(uuid.UUID(workflow_id)) == workflow_id
    assert workflow_id < run_id


@pytest.mark.parametrize(
    "value",
    [
        "nightly-2026-11-27",
        "a",
        "x" * MAX_WORKFLOW_ID_LENGTH,
        "with inner spaces ok",
        "ünïcödé-ワークフロー",
        "path/like:id@1",
        str(uuid.uuid4()),
    ],
)
def test_normal_workflow_ids_are_accepted(value: str) -> None:
    assert validate_workflow_id(value) == value


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (42, "must be a str, got int"),
        (None, "must be a str, got NoneType"),
        (b"bytes-id", "must be a str, got bytes"),
        (["wf"], "must be a str, got list"),
    ],
)
def test_non_str_workflow_ids_are_refused(value: object, problem: str) -> None:
    with pytest.raises(InvalidInputError, match=problem):
        validate_workflow_id(value)


@pytest.mark.parametrize("value", ["", " wf", "wf ", " ", "\twf", "wf\n"])
def test_empty_or_padded_workflow_ids_are_refused(value: str) -> None:
    with pytest.raises(InvalidInputError, match="non-empty without outer spaces"):
        validate_workflow_id(value)


def test_too_long_workflow_ids_are_refused_with_their_length() -> None:
    with pytest.raises(InvalidInputError, match="256 characters; the limit is 255"):
        validate_workflow_id("x" * 256)
    with pytest.raises(InvalidInputError, match="1000 characters"):
        validate_workflow_id("y" * 1000)


@pytest.mark.parametrize("char", ["\x00", "\n", "\r", "\t", "\x1b", "\x1f", "\x7f"])
def test_ascii_control_characters_are_refused(char: str) -> None:
    with pytest.raises(InvalidInputError, match="control characters"):
        validate_workflow_id(f"wf{char}1")


@pytest.mark.parametrize("char", ["\x80", "\x85", "\x9b", "\x9f"])
def test_c1_control_characters_are_refused(char: str) -> None:
    with pytest.raises(InvalidInputError, match="control characters"):
        validate_workflow_id(f"wf{char}1")


def test_workflow_id_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        validate_workflow_id("")
