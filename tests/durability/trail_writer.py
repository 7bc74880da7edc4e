"""A writer for the trailing-rows crash test: its trailing rows never get written.

Run as ``python -m tests.durability.trail_writer STORE_PATH [--idle]``. With the trail's idle
and age limits at an hour (the default here), it records a lifecycle entry on its own (durable
at once), starts four workflows (each append carrying a lifecycle observation), reads (which
writes their trail), resumes one without events (its trail written by another read),
completes two of them, prints ``DONE`` and waits to be SIGKILLed. With ``--idle`` the store
keeps its usual limits and the writer idles 1.5 s (past both) before ``DONE``: time to write
the trail.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from aion_ray.model import events as ev
from aion_ray.model.payload import encode
from aion_ray.model.store import AppendRequest, LifecycleEntry
from aion_ray.storage import DuckDBHistoryStore

WORKFLOWS = 4
COMPLETED = 2


def _event(cls: type[ev.Event], workflow_id: str, seq: int, **fields: object) -> ev.Event:
    return cls(
        workflow_id=workflow_id,
        run_id=f"run-{workflow_id}",
        seq=seq,
        recorded_at=datetime.now(UTC),
        **fields,
    )


def _observed(workflow_id: str) -> LifecycleEntry:
    return LifecycleEntry(
        workflow_id=workflow_id, recorded_at=datetime.now(UTC), kind="resident", detail={}
    )


def main() -> None:
    idle = "--idle" in sys.argv
    hour = 3600.0
    store = (
        DuckDBHistoryStore(sys.argv[1])
        if idle
        else DuckDBHistoryStore(sys.argv[1], trail_idle=hour, trail_max_age=hour)
    )
    kept = LifecycleEntry(workflow_id="catalogue", recorded_at=datetime.now(UTC), kind="kept")
    store.record_lifecycle([kept])
    leases = {}
    for i in range(WORKFLOWS):
        wid = f"wf-{i}"
        started = _event(ev.WorkflowStarted, wid, 1, workflow_type="t", input=encode(None))
        request = AppendRequest(wid, [started], 0, acquire="writer", lifecycle=[_observed(wid)])
        [result] = store.append_batch([request])
        assert result.ok, result.error
        leases[wid] = result.lease
    store.list_workflows()  # a read: the starts' trailing rows are written now
    # A resume that records nothing (a group without events, with a lifecycle fact), its
    # trail written too: it must not move the visibility watermark past the next commits.
    last = f"wf-{WORKFLOWS - 1}"
    resume = AppendRequest(last, [], 1, acquire="another", lifecycle=[_observed(last)])
    [resumed] = store.append_batch([resume])
    assert resumed.ok, resumed.error
    store.list_workflows()
    for i in range(COMPLETED):  # these trail, and are never written
        wid = f"wf-{i}"
        done = _event(ev.WorkflowCompleted, wid, 2, result=encode(i))
        [closed] = store.append_batch([AppendRequest(wid, [done], 1, lease=leases[wid])])
        assert closed.ok, closed.error
    if idle:
        time.sleep(1.5)
    sys.stdout.write("DONE\n")
    sys.stdout.flush()
    time.sleep(3600)


if __name__ == "__main__":
    main()
