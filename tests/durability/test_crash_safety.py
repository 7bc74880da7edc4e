"""Crash safety: SIGKILL a writer at random moments; no acknowledged event may be lost.

A subprocess appends batches from four threads and reports each acknowledged batch. The
test kills it with SIGKILL 20 times at random moments, reopens the store after each kill and
checks that every acknowledged event is present, that no batch is half-written and that every
history's seqs are contiguous. The next writer continues on the same file.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from aion_ray.storage import DuckDBHistoryStore

KILLS = 20
REPO = Path(__file__).resolve().parents[2]


def run_writer_until_killed(path: Path, seed: int, rng: random.Random) -> dict[str, int]:
    """Start a writer, let it run a random while, SIGKILL it; return the acked heads."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.durability.writer_process", str(path), str(seed)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY"
    acked: dict[str, int] = {}
    deadline = time.monotonic() + rng.uniform(0.05, 0.6)
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        _, workflow_id, head, _, _ = line.split()
        acked[workflow_id] = max(acked.get(workflow_id, 0), int(head))
    os.kill(proc.pid, signal.SIGKILL)
    # Lines already written before the kill are acknowledgements too.
    for line in proc.stdout.read().splitlines():
        if line.startswith("ACK "):
            _, workflow_id, head, _, _ = line.split()
            acked[workflow_id] = max(acked.get(workflow_id, 0), int(head))
    proc.stdout.close()
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return acked


def check_store(path: Path, acked: dict[str, int]) -> int:
    store = DuckDBHistoryStore(path)
    try:
        total = 0
        for workflow_id in {info.workflow_id for info in store.list_workflows()} | set(acked):
            history = store.read_history(workflow_id)
            assert [e.seq for e in history] == list(range(1, len(history) + 1))
            assert len(history) >= acked.get(workflow_id, 0), f"{workflow_id} lost acked events"
            batches = Counter(e.payload.value["batch"] for e in history[1:])  # type: ignore[union-attr]
            sizes = {e.payload.value["batch"]: e.payload.value["size"] for e in history[1:]}  # type: ignore[union-attr]
            assert all(batches[b] == sizes[b] for b in batches), "a batch was half-written"
            total += len(history)
        return total
    finally:
        store.close()


@pytest.mark.slow
def test_acknowledged_events_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "crash.duckdb"
    rng = random.Random(20261127)
    acked: dict[str, int] = {}
    events_seen = 0
    for kill in range(KILLS):
        for workflow_id, head in run_writer_until_killed(path, kill, rng).items():
            acked[workflow_id] = max(acked.get(workflow_id, 0), head)
        events_seen = check_store(path, acked)
    assert sum(acked.values()) > KILLS, "the writer never got going"
    assert events_seen >= sum(acked.values())
