"""Which workflow ids the store may hold: a Bloom filter that spares a start its lookup.

A new id still has to be shown absent before its first append is accepted, and a DuckDB
point query costs about 1 ms from Python: most of what staging a start cost. The filter
answers "certainly absent" for a new id without touching the database; "perhaps present"
(a held id, or a false positive about one time in a hundred) falls back to the lookup, so an
error of the filter costs a query, never a wrong answer. It is filled from the ``leases``
table (every id with events has a lease row) by a thread at open, answering "perhaps" until
that is done (a layer sized for the stored ids: a million load in about 3 s and answer in
about 5 us), and by the writer as it commits new leases. It grows a layer when full.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

import duckdb

log = logging.getLogger(__name__)

BITS_PER_ID = 10
HASHES = 7  # with 10 bits per id: about 0.8% false positives per layer
FIRST_LAYER = 1 << 16
LOAD_BATCH = 10_000


class _Layer:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.count = 0
        self.size = capacity * BITS_PER_ID
        self.bits = bytearray(self.size // 8 + 1)

    def positions(self, workflow_id: str) -> Iterable[int]:
        # Python's str hash is stable within a process, which is all an in-memory filter
        # needs; double hashing derives the HASHES positions from its two halves.
        h = hash(workflow_id) & 0xFFFF_FFFF_FFFF_FFFF
        low, high = h & 0xFFFF_FFFF, (h >> 32) | 1
        return ((low + i * high) % self.size for i in range(HASHES))

    def add(self, workflow_id: str) -> None:
        for p in self.positions(workflow_id):
            self.bits[p >> 3] |= 1 << (p & 7)
        self.count += 1

    def __contains__(self, workflow_id: str) -> bool:
        return all(self.bits[p >> 3] & (1 << (p & 7)) for p in self.positions(workflow_id))


class KnownIds:
    """A growing Bloom filter over the workflow ids with a lease (thread-safe)."""

    def __init__(self) -> None:
        self._layers = [_Layer(FIRST_LAYER)]
        self._lock = threading.Lock()
        self._ready = threading.Event()

    def load(self, con: duckdb.DuckDBPyConnection) -> threading.Thread:
        """Fill from the ``leases`` table on a thread of its own (``con``: a cursor for it)."""
        thread = threading.Thread(target=self._load, args=(con,), name="aion-known-ids")
        thread.daemon = True
        thread.start()
        return thread

    def _load(self, con: duckdb.DuckDBPyConnection) -> None:
        try:
            row = con.execute("SELECT count(*) FROM leases").fetchone()
            stored = int(row[0]) if row else 0
            if stored * 2 > FIRST_LAYER:  # a layer with room for them all, filled from now on
                with self._lock:
                    self._layers.append(_Layer(stored * 2))
            con.execute("SELECT workflow_id FROM leases")
            while batch := con.fetchmany(LOAD_BATCH):
                self.add_all(workflow_id for (workflow_id,) in batch)
            self._ready.set()
        except duckdb.Error as exc:  # the store closed meanwhile, or its file is unreadable
            log.warning("known ids not loaded (every start looks its id up): %s", exc)
        finally:
            con.close()

    def add_all(self, workflow_ids: Iterable[str]) -> None:
        with self._lock:
            for workflow_id in workflow_ids:
                layer = self._layers[-1]
                if layer.count >= layer.capacity:
                    layer = _Layer(layer.capacity * 2)
                    self._layers.append(layer)
                layer.add(workflow_id)

    def certainly_absent(self, workflow_id: str) -> bool:
        """True only if the store holds no lease (so no event) for ``workflow_id``."""
        if not self._ready.is_set():
            return False
        with self._lock:
            return not any(workflow_id in layer for layer in self._layers)
