"""A writer process for the crash test: appends batches forever, reporting each ack.

Run as ``python -m tests.durability.writer_process STORE_PATH SEED``. Four threads each own
three workflows and append batches of 1-20 events; after an append returns, the thread prints
``ACK <workflow_id> <head> <batch_id> <size>`` and flushes stdout. The parent SIGKILLs it.
"""

from __future__ import annotations

import random
import sys
import threading
from datetime import UTC, datetime

from aion_ray.model import events as ev
from aion_ray.model.payload import encode
from aion_ray.storage import DuckDBHistoryStore

WORKFLOWS_PER_THREAD = 3
THREADS = 4
_print_lock = threading.Lock()


def _report(line: str) -> None:
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _start_if_new(store: DuckDBHistoryStore, workflow_id: str) -> tuple[int, str]:
    history = store.read_history(workflow_id)
    if history:
        return len(history), history[0].run_id
    lease = store.acquire_lease(workflow_id)
    started = ev.WorkflowStarted(
        workflow_id=workflow_id,
        run_id="run-1",
        seq=1,
        recorded_at=datetime.now(UTC),
        workflow_type="crash-test",
        input=encode(None),
    )
    store.append(workflow_id, [started], expected_seq=0, lease=lease)
    return 1, "run-1"


def _writer(store: DuckDBHistoryStore, thread: int, seed: int) -> None:
    rng = random.Random(seed * 100 + thread)
    owned = [f"crash-{thread}-{i}" for i in range(WORKFLOWS_PER_THREAD)]
    heads = {wid: _start_if_new(store, wid) for wid in owned}
    leases = {wid: store.acquire_lease(wid, holder=f"p{seed}") for wid in owned}
    while True:
        wid = rng.choice(owned)
        head, run_id = heads[wid]
        size = rng.randint(1, 20)
        batch_id = f"{seed}-{thread}-{rng.getrandbits(40):x}"
        batch = [
            ev.SignalReceived(
                workflow_id=wid,
                run_id=run_id,
                seq=head + i + 1,
                recorded_at=datetime.now(UTC),
                name="tick",
                payload=encode({"batch": batch_id, "size": size, "i": i}),
            )
            for i in range(size)
        ]
        new_head = store.append(wid, batch, expected_seq=head, lease=leases[wid])
        heads[wid] = (new_head, run_id)
        _report(f"ACK {wid} {new_head} {batch_id} {size}")


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
