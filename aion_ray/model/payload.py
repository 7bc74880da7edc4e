"""Payloads: values encoded once, at the boundary, by a codec.

The JSON codec (the default) encodes with pydantic and decodes back to an annotated type, so
pydantic models, dataclasses, datetimes and containers round-trip. The pickle codec (cloudpickle)
is opt-in for arbitrary Python objects. A payload records its codec, so a history stays readable
whatever the current default is. Payloads over the size limit are refused, never truncated.
"""

from __future__ import annotations

import base64
import functools
import pickle
import typing
from collections.abc import Sequence
from typing import Any, Literal

import pydantic_core
from pydantic import (
    BaseModel,
    ConfigDict,
    PydanticSchemaGenerationError,
    TypeAdapter,
    ValidationError,
)

from aion_ray.errors import PayloadError

CodecName = Literal["json", "pickle"]
DEFAULT_MAX_PAYLOAD_BYTES = 2 * 1024 * 1024
_LARGE_DATA_ADVICE = (
    "pass large data by reference instead: write it to shared storage and pass its path or URI "
    "(or a Ray object ref you keep alive), or raise the limit with max_payload_bytes"
)


class Payload(BaseModel):
    """An encoded value: ``value`` is JSON (for ``codec="json"``) or base64 cloudpickle text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    codec: CodecName = "json"
    value: Any = None


@functools.lru_cache(maxsize=1024)
def _adapter_for(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def type_adapter(annotation: Any) -> TypeAdapter[Any]:
    """A cached TypeAdapter; PayloadError if the JSON codec cannot handle ``annotation``."""
    try:
        try:
            return _adapter_for(annotation)
        except TypeError:  # unhashable annotations get a fresh one
            return TypeAdapter(annotation)
    except PydanticSchemaGenerationError as exc:
        raise PayloadError(
            f"the JSON codec cannot encode or decode {_type_name(annotation)}; make it a "
            "pydantic model or dataclass, or use codec='pickle'"
        ) from exc


def encode(
    value: object,
    *,
    codec: CodecName = "json",
    annotation: Any = Any,
    max_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
    what: str = "value",
) -> Payload:
    """Encode ``value`` with ``codec``; raise PayloadError if it cannot be or is too large."""
    if codec == "json":
        raw = _dump_json(value, annotation, what)
        _check_size(len(raw), max_bytes, what)
        try:
            return Payload(codec="json", value=pydantic_core.from_json(raw, allow_inf_nan=False))
        except ValueError as exc:
            raise PayloadError(
                f"{what} contains NaN or infinity, which JSON cannot carry; use None or a "
                "string, or codec='pickle'"
            ) from exc
    if codec == "pickle":
        text = _dump_pickle(value, what)
        _check_size(len(text), max_bytes, what)
        return Payload(codec="pickle", value=text)
    raise PayloadError(f"unknown codec {codec!r} for {what}; use 'json' or 'pickle'")


def decode(payload: Payload, annotation: Any = Any, *, what: str = "value") -> Any:
    """Decode ``payload`` to ``annotation`` (JSON) or to the pickled object (pickle)."""
    if payload.codec == "pickle":
        try:
            return pickle.loads(base64.b64decode(payload.value))
        except Exception as exc:
            raise PayloadError(f"cannot unpickle {what}: {type(exc).__name__}: {exc}") from exc
    try:
        return type_adapter(annotation).validate_python(payload.value)
    except ValidationError as exc:
        raise PayloadError(
            f"cannot decode {what} as {_type_name(annotation)}: {_first_error(exc)}"
        ) from exc


def decode_arguments(
    payload: Payload, param_types: Sequence[Any], *, what: str = "arguments"
) -> list[Any]:
    """Decode an encoded argument list, each value to its parameter's annotation."""
    values = decode(payload, list[Any], what=what)
    if payload.codec == "pickle":
        return list(values)
    types = list(param_types) + [Any] * max(0, len(values) - len(param_types))
    return [
        decode(Payload(value=value), annotation, what=f"{what} #{i + 1}")
        for i, (value, annotation) in enumerate(zip(values, types, strict=False))
    ]


def _dump_json(value: object, annotation: Any, what: str) -> bytes:
    if annotation is not Any:
        try:
            value = type_adapter(annotation).dump_python(value, warnings="error")
        except pydantic_core.PydanticSerializationError as exc:
            raise PayloadError(
                f"{what} of type {type(value).__name__} does not match its declared type "
                f"{_type_name(annotation)}"
            ) from exc
    try:
        # Non-finite floats become NaN/Infinity constants here, refused when parsed back,
        # instead of pydantic's default of silently writing null.
        return pydantic_core.to_json(value, inf_nan_mode="constants")
    except (pydantic_core.PydanticSerializationError, ValueError, TypeError) as exc:
        raise PayloadError(
            f"{what} of type {type(value).__name__} is not JSON-serialisable ({exc}); make it a "
            "pydantic model, dataclass or plain data, or use codec='pickle'"
        ) from exc


def _dump_pickle(value: object, what: str) -> str:
    import cloudpickle  # noqa: PLC0415 - the pickle codec is opt-in

    try:
        return base64.b64encode(cloudpickle.dumps(value)).decode("ascii")
    except Exception as exc:
        raise PayloadError(f"{what} cannot be pickled: {type(exc).__name__}: {exc}") from exc


def _check_size(size: int, max_bytes: int, what: str) -> None:
    if size > max_bytes:
        raise PayloadError(
            f"{what} is {size:,} bytes encoded, over the {max_bytes:,}-byte payload limit; "
            + _LARGE_DATA_ADVICE
        )


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        return annotation.__name__
    return repr(annotation)


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "value"
    more = exc.error_count() - 1
    return f"{where}: {first['msg']}" + (f" (and {more} more)" if more else "")
