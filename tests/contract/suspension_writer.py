"""A writer process for the suspension crash test: suspends and wakes workflows forever.

Run as ``python -m tests.contract.suspension_writer STORE_PATH SEED``. Two threads each own
four workflows; each step either appends a signal (waking the workflow), records a suspension
at the head on its own, or appends a signal with a suspension at its new head riding on it.
After a step returns, the thread prints ``<APPENDED|SUSPENDED> <workflow_id> <head>``. The
parent SIGKILLs it.
"""

from __future__ import annotations

import random
import sys
import threading
from datetime import UTC, datetime

from aion_ray.model import events as ev
from aion_ray.model.lease import Lease
from aion_ray.model.payload import encode
from aion_ray.model.store import AppendRequest, SuspendedWorkflow
from aion_ray.storage import DuckDBHistoryStore

THREADS = 2
WORKFLOWS_PER_THREAD = 4
_print_lock = threading.Lock()


def _report(line: str) -> None:
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class Owned:
    """One workflow this process writes: its head and a lease it took."""

    def __init__(self, store: DuckDBHistoryStore, workflow_id: str, holder: str) -> None:
        self.store, self.workflow_id = store, workflow_id
        self.head = len(store.read_history(workflow_id))
        if self.head == 0:
            started = ev.WorkflowStarted(
                workflow_id=workflow_id,
                run_id="run-1",
                seq=1,
                recorded_at=datetime.now(UTC),
                workflow_type="crash-test",
                input=encode(None),
            )
            (result,) = store.append_batch(
                [AppendRequest(workflow_id, [started], 0, acquire=holder)]
            )
            assert result.ok, result.error
            self.head = 1
        self.lease: Lease = store.acquire_lease(workflow_id, holder=holder)

    def suspension(self, head: int) -> SuspendedWorkflow:
        return SuspendedWorkflow(self.workflow_id, "run-1", head, "writer", datetime.now(UTC))

    def signal(self, suspend: bool) -> None:
        event = ev.SignalReceived(
            workflow_id=self.workflow_id,
            run_id="run-1",
            seq=self.head + 1,
            recorded_at=datetime.now(UTC),
            name="tick",
            payload=encode(None),
        )
        riding = [self.suspension(self.head + 1).entry(datetime.now(UTC))] if suspend else []
        request = AppendRequest(self.workflow_id, [event], self.head, self.lease, lifecycle=riding)
        (result,) = self.store.append_batch([request])
        assert result.ok, result.error
        self.head = result.head
        _report(f"{'SUSPENDED' if suspend else 'APPENDED'} {self.workflow_id} {self.head}")

    def suspend(self) -> None:
        self.store.record_lifecycle([self.suspension(self.head).entry(datetime.now(UTC))])
        _report(f"SUSPENDED {self.workflow_id} {self.head}")


def _writer(store: DuckDBHistoryStore, thread: int, seed: int) -> None:
    rng = random.Random(seed * 100 + thread)
    owned = [Owned(store, f"crash-{thread}-{i}", f"p{seed}") for i in range(WORKFLOWS_PER_THREAD)]
    while True:
        workflow = rng.choice(owned)
        step = rng.randrange(3)
        if step == 0:
            workflow.suspend()
        else:
            workflow.signal(suspend=step == 2)


def main() -> None:
    path, seed = sys.argv[1], int(sys.argv[2])
    store = DuckDBHistoryStore(path)
    threads = [
        threading.Thread(target=_writer, args=(store, t, seed), daemon=True) for t in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    _report("READY")
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
