"""The definitions catalogue's rules, shared by both stores: argument checks, and the
in-memory catalogue of the reference store.

A definition is opaque bytes (the caller pickles and unpickles) kept per workflow type and
code fingerprint; the newest saved per type wins.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from aion_ray.errors import InvalidInputError

MAX_NAME_LENGTH = 1024
"""The longest workflow type name or fingerprint a store keeps."""
MAX_DEFINITION_BYTES = 256 << 20
"""The largest definition a store keeps (a by-value pickle of a notebook's workflow is a few
kilobytes to a few megabytes; anything near this is a mistake, such as data pickled along)."""


def checked_definition(workflow_type: object, fingerprint: object, blob: object) -> bytes:
    """``blob`` as bytes, if all three make a definition; else InvalidInputError."""
    _checked_name("workflow_type", workflow_type)
    _checked_name("fingerprint", fingerprint)
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise InvalidInputError(f"a definition must be bytes, got {type(blob).__name__}")
    data = bytes(blob)
    if not data:
        raise InvalidInputError(f"the definition of {workflow_type!r} is empty")
    if len(data) > MAX_DEFINITION_BYTES:
        raise InvalidInputError(
            f"the definition of {workflow_type!r} is {len(data)} bytes; "
            f"the limit is {MAX_DEFINITION_BYTES}"
        )
    return data


def checked_types(workflow_types: object) -> list[str]:
    """The distinct workflow type names of ``workflow_types`` (an iterable of names, not a
    single one), in their first order; else InvalidInputError."""
    if isinstance(workflow_types, str | bytes) or not isinstance(workflow_types, Iterable):
        raise InvalidInputError(
            f"workflow_types must be an iterable of type names, got {workflow_types!r:.80}"
        )
    names = [_checked_name("workflow type", name) for name in workflow_types]
    return list(dict.fromkeys(names))


def _checked_name(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be a str, got {type(value).__name__}")
    if not value or value.strip() != value:
        raise InvalidInputError(f"{what} {value!r} must be non-empty without outer spaces")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInputError(
            f"{what} is {len(value)} characters; the limit is {MAX_NAME_LENGTH}"
        )
    return value


class InMemoryCatalogue:
    """Definitions in a dict: per type, (fingerprint, blob) pairs, the newest last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._saved: dict[str, list[tuple[str, bytes]]] = {}

    def save(self, workflow_type: str, fingerprint: str, blob: bytes) -> None:
        """Checked input only (see ``checked_definition``)."""
        with self._lock:
            saved = self._saved.setdefault(workflow_type, [])
            if saved and saved[-1][0] == fingerprint:
                return  # already the newest: a repeated save changes nothing
            saved[:] = [pair for pair in saved if pair[0] != fingerprint]
            saved.append((fingerprint, blob))

    def load(self, workflow_types: Iterable[str]) -> dict[str, bytes]:
        with self._lock:
            return {t: self._saved[t][-1][1] for t in workflow_types if self._saved.get(t)}
