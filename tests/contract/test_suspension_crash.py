"""The suspension index is durable with the appends it follows: SIGKILL a writer that
suspends and wakes workflows at random moments, reopen, and check the index against the
histories and the acknowledged steps."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from aion_ray.storage import DuckDBHistoryStore

KILLS = 5
REPO = Path(__file__).resolve().parents[2]


def run_until_killed(path: Path, seed: int, rng: random.Random) -> dict[str, tuple[str, int]]:
    """Run a writer a random while, SIGKILL it; return each workflow's last acked step."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.contract.suspension_writer", str(path), str(seed)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "READY"
    time.sleep(rng.uniform(0.2, 0.8))
    os.kill(proc.pid, signal.SIGKILL)
    last: dict[str, tuple[str, int]] = {}
    for line in proc.stdout.read().splitlines():  # every line printed was acknowledged first
        step, workflow_id, head = line.split()
        last[workflow_id] = (step, int(head))
    proc.stdout.close()
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return last


def check(path: Path, last: dict[str, tuple[str, int]]) -> int:
    """Every listed suspension is at its history's head; every acked suspension after which
    nothing was appended is listed. Returns how many are listed."""
    store = DuckDBHistoryStore(path)
    try:
        listed = {s.workflow_id: s.head for s in store.suspended_workflows()}
        for workflow_id, head in listed.items():
            assert head == len(store.read_history(workflow_id)), f"{workflow_id}: stale row"
        for workflow_id, (step, head) in last.items():
            assert len(store.read_history(workflow_id)) >= head, f"{workflow_id} lost events"
            nothing_since = len(store.read_history(workflow_id)) == head
            if step == "SUSPENDED" and nothing_since:
                assert listed.get(workflow_id) == head, f"{workflow_id}: acked suspension lost"
        return len(listed)
    finally:
        store.close()


def test_the_suspension_index_survives_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "crash.duckdb"
    rng = random.Random(20261203)
    steps = listed = 0
    for kill in range(KILLS):
        last = run_until_killed(path, kill, rng)
        steps += len(last)
        listed += check(path, last)
    assert steps > KILLS, "the writer never got going"
    assert listed > 0, "no suspension was ever listed"
