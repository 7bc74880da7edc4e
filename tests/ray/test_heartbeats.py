"""Heartbeats on Ray: recorded, throttled, and a silent attempt cancelled and retried."""

from __future__ import annotations

from pathlib import Path

import pytest

import aion_ray as aion
from aion_ray.model import events as ev
from tests.ray import workflows as wf

pytestmark = pytest.mark.ray


def test_a_silent_attempt_times_out_and_the_next_one_beats(
    engine: aion.Client, tmp_path: Path
) -> None:
    counter = tmp_path / "runs"
    handle = engine.start(wf.watched, str(counter))
    assert handle.result(timeout=60) == "trained"
    history = handle.history()
    failed = [e for e in history if isinstance(e, ev.ActivityFailed)]
    assert [(f.attempt, f.error.type) for f in failed] == [(1, "HeartbeatTimeout")]
    beats = [e for e in history if isinstance(e, ev.ActivityHeartbeat)]
    assert beats
    assert {b.attempt for b in beats} == {2}
    assert beats[0].details is not None
    assert beats[0].details.value == {"step": 0}
    assert counter.read_text() == "xx"


def test_a_local_activity_heartbeats_through_its_host(engine: aion.Client) -> None:
    handle = engine.start(wf.watched_locally)
    assert handle.result(timeout=30) == 2
    beats = [e for e in handle.history() if isinstance(e, ev.ActivityHeartbeat)]
    assert [b.details.value for b in beats if b.details is not None] == [0, 1]
