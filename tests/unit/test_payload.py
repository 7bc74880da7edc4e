"""Payload codecs: JSON round trips to the annotated type, pickle, size limits and errors."""

from __future__ import annotations

import dataclasses
import enum
import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel

from aion_ray.errors import AionError, InvalidInputError, PayloadError
from aion_ray.model.payload import DEFAULT_MAX_PAYLOAD_BYTES, Payload, decode, encode


class Config(BaseModel):
    name: str
    lr: float
    layers: list[int]
    started: datetime


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Size(enum.IntEnum):
    SMALL = 1
    LARGE = 2


@dataclasses.dataclass
class Nested:
    points: list[Point]
    by_name: dict[str, Config]
    tags: frozenset[str]


class Opaque:
    """A plain class instance: only the pickle codec can carry it."""

    def __init__(self, items: list[int], label: str) -> None:
        self.items = items
        self.label = label

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash(self.label)


AWARE = datetime(2026, 11, 27, 12, 30, 15, 123456, tzinfo=UTC)
CONFIG = Config(name="resnet", lr=0.01, layers=[64, 128], started=AWARE)


def round_trip(value: Any, annotation: Any) -> Any:
    return decode(encode(value, annotation=annotation), annotation)


@pytest.mark.parametrize(
    ("value", "annotation"),
    [
        (CONFIG, Config),
        (Point(1, -2), Point),
        (AWARE, datetime),
        (AWARE.astimezone(timezone(timedelta(hours=-5))), datetime),
        ({"a": 1, "b": 2}, dict[str, int]),
        ({1: "one", 2: "two"}, dict[int, str]),
        ([1, 2, 3], list[int]),
        ((1, "a", 2.5), tuple[int, str, float]),
        ((1, 2, 3, 4), tuple[int, ...]),
        ({1, 2, 3}, set[int]),
        (frozenset({"x", "y"}), frozenset[str]),
        (Color.BLUE, Color),
        (Size.LARGE, Size),
        (uuid.UUID("0190b2b4-8f5e-7d3c-9a1b-2c3d4e5f6a7b"), uuid.UUID),
        (None, None),
        (None, int | None),
        ("text", str),
        (True, bool),
        (12.5, float),
        ({"runs": [Point(0, 0), Point(1, 1)]}, dict[str, list[Point]]),
        ([(1, {"k": [Color.RED]})], list[tuple[int, dict[str, list[Color]]]]),
    ],
    ids=lambda v: type(v).__name__,
)
def test_json_round_trip_decodes_to_the_annotated_type(value: Any, annotation: Any) -> None:
    decoded = round_trip(value, annotation)
    assert decoded == value
    assert type(decoded) is type(value)


def test_aware_datetime_round_trip_keeps_the_instant_and_offset() -> None:
    eastern = AWARE.astimezone(timezone(timedelta(hours=-5)))
    decoded = round_trip(eastern, datetime)
    assert decoded == eastern
    assert decoded.utcoffset() == timedelta(hours=-5)


def test_nested_containers_of_models_and_dataclasses_round_trip() -> None:
    value = Nested(
        points=[Point(1, 2), Point(3, 4)],
        by_name={"a": CONFIG, "b": CONFIG.model_copy(update={"name": "vit"})},
        tags=frozenset({"gpu", "big"}),
    )
    decoded = round_trip(value, Nested)
    assert decoded == value
    assert isinstance(decoded.points[0], Point)
    assert isinstance(decoded.by_name["b"], Config)
    assert decoded.by_name["b"].started == AWARE


def test_json_payload_value_is_plain_json_data() -> None:
    payload = encode(CONFIG)
    assert payload.codec == "json"
    assert payload.value == {
        "name": "resnet",
        "lr": 0.01,
        "layers": [64, 128],
        "started": "2026-11-27T12:30:15.123456Z",
    }
    assert Payload.model_validate_json(payload.model_dump_json()) == payload


def test_decoding_to_any_gives_plain_json_data() -> None:
    payload = encode({"point": Point(1, 2), "when": AWARE, "ids": (1, 2), "c": Color.RED})
    assert decode(payload) == {
        "point": {"x": 1, "y": 2},
        "when": "2026-11-27T12:30:15.123456Z",
        "ids": [1, 2],
        "c": "red",
    }
    assert decode(payload, Any) == decode(payload)


def test_pickle_codec_round_trips_an_arbitrary_object() -> None:
    value = Opaque([1, 2, 3], "weights")
    payload = encode(value, codec="pickle")
    assert payload.codec == "pickle"
    assert isinstance(payload.value, str)
    decoded = decode(payload)
    assert decoded == value
    assert decoded is not value
    assert type(decoded) is Opaque


def test_pickle_payload_survives_its_own_json_serialisation() -> None:
    payload = encode({"obj": Opaque([7], "x"), "n": 1}, codec="pickle")
    again = Payload.model_validate_json(payload.model_dump_json())
    assert decode(again) == {"obj": Opaque([7], "x"), "n": 1}


@pytest.mark.parametrize("value", [Opaque([1], "a"), object(), threading.Event()])
def test_a_value_json_cannot_carry_names_its_type_and_the_pickle_codec(value: object) -> None:
    with pytest.raises(PayloadError) as caught:
        encode(value, what="activity input")
    message = str(caught.value)
    assert type(value).__name__ in message
    assert "activity input" in message
    assert "codec='pickle'" in message


def test_a_circular_structure_is_a_payload_error() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(PayloadError, match="codec='pickle'"):
        encode(loop)


def test_an_unpicklable_value_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="cannot be pickled"):
        encode(threading.Lock(), codec="pickle", what="result")


def test_a_corrupt_pickle_payload_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="cannot unpickle signal"):
        decode(Payload(codec="pickle", value="bm90IGEgcGlja2xl"), what="signal")


def test_the_default_size_limit_is_two_mebibytes() -> None:
    assert DEFAULT_MAX_PAYLOAD_BYTES == 2 * 1024 * 1024
    just_fits = "x" * (DEFAULT_MAX_PAYLOAD_BYTES - 2)  # JSON adds two quotes
    assert decode(encode(just_fits), str) == just_fits
    too_big = just_fits + "x"
    with pytest.raises(PayloadError) as caught:
        encode(too_big, what="workflow input")
    message = str(caught.value)
    assert "workflow input" in message
    assert f"{DEFAULT_MAX_PAYLOAD_BYTES + 1:,} bytes" in message
    assert f"{DEFAULT_MAX_PAYLOAD_BYTES:,}-byte" in message
    assert "path or URI" in message


def test_a_custom_size_limit_is_enforced_at_the_exact_boundary() -> None:
    value = [1, 2, 3]  # "[1,2,3]" is 7 bytes
    assert encode(value, max_bytes=7).value == value
    with pytest.raises(PayloadError) as caught:
        encode(value, max_bytes=6)
    assert "7 bytes" in str(caught.value)
    assert "6-byte payload limit" in str(caught.value)
    assert "path or URI" in str(caught.value)


def test_the_size_limit_applies_to_the_pickle_codec() -> None:
    big = Opaque(list(range(10_000)), "big")
    size = len(encode(big, codec="pickle").value)
    assert encode(big, codec="pickle", max_bytes=size).codec == "pickle"
    with pytest.raises(PayloadError, match=f"{size:,} bytes encoded"):
        encode(big, codec="pickle", max_bytes=size - 1)


def test_an_unknown_codec_is_a_payload_error() -> None:
    with pytest.raises(PayloadError, match="unknown codec 'xml'"):
        encode(1, codec="xml")  # type: ignore[arg-type]


def test_a_payload_cannot_name_an_unknown_codec() -> None:
    with pytest.raises(ValueError):
        Payload.model_validate({"codec": "xml", "value": 1})


@pytest.mark.parametrize(
    ("value", "annotation", "name"),
    [
        ("abc", int, "int"),
        ({"x": 1}, Point, "Point"),
        ({"name": "n"}, Config, "Config"),
        ("purple", Color, "Color"),
        ("not-a-uuid", uuid.UUID, "UUID"),
        ("yesterday-ish", datetime, "datetime"),
    ],
)
def test_decoding_to_a_wrong_annotation_names_the_target_type(
    value: Any, annotation: Any, name: str
) -> None:
    with pytest.raises(PayloadError) as caught:
        decode(encode(value), annotation, what="activity result")
    assert f"cannot decode activity result as {name}" in str(caught.value)


def test_decoding_to_a_generic_annotation_names_it_in_full() -> None:
    with pytest.raises(PayloadError, match=r"as list\[int\]"):
        decode(encode(["a"]), list[int])


def test_non_finite_floats_are_not_silently_turned_into_null() -> None:
    for value in (float("inf"), float("-inf")):
        try:
            payload = encode(value)
        except PayloadError:
            continue
        assert decode(payload, float) == value


def test_payload_error_is_an_invalid_input_error_and_a_value_error() -> None:
    error = PayloadError("too big")
    assert isinstance(error, InvalidInputError)
    assert isinstance(error, ValueError)
    assert isinstance(error, AionError)
    with pytest.raises(ValueError):
        encode(object())
