"""A start travels as data: the WorkflowStarted draft pickles as fields (the standard pickle
refuses code such as a lambda) and stamps the same event a host records."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import aion_ray as aion
from aion_ray.engine.recorder import Recorder
from aion_ray.engine.starts import start_event
from aion_ray.model import events as ev
from aion_ray.model.payload import encode
from aion_ray.testing.clock import FakeClock


@aion.workflow
async def nightly(ctx: aion.WorkflowContext, n: int) -> int:
    return n


def test_a_start_event_pickles_as_data_and_stamps_the_started_event() -> None:
    draft = start_event(nightly, encode(3), {"team": "ml"})
    travelled = pickle.loads(pickle.dumps(draft))
    assert travelled == draft
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    [started] = Recorder("wf-1", clock, []).stamp([travelled], run_id="run-1")
    assert isinstance(started, ev.WorkflowStarted)
    assert (started.workflow_type, started.search_attributes) == ("nightly", {"team": "ml"})
    assert (started.seq, started.run_id, started.parent) == (1, "run-1", None)
