"""``make demo``: a short tour of the durable history store on a real DuckDB file.

Appends a few workflows' events, reads one history back, and runs SQL over the event logs.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aion_ray import events as ev
from aion_ray.payload import encode
from aion_ray.storage import DuckDBHistoryStore


def main() -> None:
    path = Path(tempfile.mkdtemp(prefix="aion-demo-")) / "history.duckdb"
    store = DuckDBHistoryStore(path)
    at = datetime.now(UTC)
    for n in range(3):
        workflow_id = f"nightly-{n}"
        lease = store.acquire_lease(workflow_id)
        events: list[ev.Event] = [
            ev.WorkflowStarted(
                workflow_id=workflow_id,
                run_id="r1",
                seq=1,
                recorded_at=at,
                workflow_type="nightly",
                input=encode({"epochs": n + 1}),
            ),
            ev.ActivityScheduled(
                workflow_id=workflow_id,
                run_id="r1",
                seq=2,
                recorded_at=at,
                activity_id=1,
                activity_type="train",
                input=encode([n]),
            ),
            ev.ActivityCompleted(
                workflow_id=workflow_id,
                run_id="r1",
                seq=3,
                recorded_at=at + timedelta(seconds=n),
                activity_id=1,
                attempt=1,
                result=encode({"loss": 1 / (n + 1)}),
            ),
        ]
        if n != 1:
            events.append(
                ev.WorkflowCompleted(
                    workflow_id=workflow_id, run_id="r1", seq=4, recorded_at=at, result=encode("ok")
                )
            )
        store.append(workflow_id, events, expected_seq=0, lease=lease)
    print(f"store: {path}")
    for event in store.read_history("nightly-2"):
        print(f"  {event.seq:>3}  {event.type:<20} {event.recorded_at:%H:%M:%S}")
    print(store.sql("select status, count(*) as n from workflows group by 1 order by 1"))
    print(
        store.sql(
            "select workflow_id, data->>'$.result.value.loss' as loss from events "
            "where type = 'ActivityCompleted' order by 1"
        )
    )
    store.close()


if __name__ == "__main__":
    main()
