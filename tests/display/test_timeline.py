"""The timeline: the model's lanes, bars and shaded periods, and the picture drawn from it
(SVG that parses, one element per attempt, PNG, saving, bounds)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest

import aion_ray as aion
from aion_ray.display.picture import MAX_LANES
from aion_ray.display.timeline import build_timeline
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.payload import Payload, encode
from aion_ray.model.store import LifecycleEntry
from aion_ray.runtime.state import INTERRUPTED
from aion_ray.testing import TestEngine
from tests.builders import T0, HistoryBuilder
from tests.display.workflows import many_steps, pipeline, tries


def finished(engine: TestEngine, name: str) -> aion.History:
    handle = engine.start(pipeline, name, id=name)
    engine.sleep(120)
    handle.signal("approve", True)
    handle.result()
    return handle.history()


def svg_ids(svg: str) -> list[str]:
    root = ET.fromstring(svg)  # raises if the SVG is not well-formed
    return [el.get("id", "") for el in root.iter()]


def test_every_kind_of_lane_is_in_the_model() -> None:
    tries.clear()
    history = finished(TestEngine(), "tl-1")
    model = build_timeline(history)
    assert model.lanes == [
        "workflow",
        "#1 flaky",
        "#2 echo",
        "timer: sleep",
        "signals",
        "child #1 child_step",
    ]
    flaky = model.lanes.index("#1 flaky")
    outcomes = [b.outcome for b in model.bars if b.lane == flaky]
    assert outcomes == ["retried", "completed"]  # one bar per attempt, by outcome
    timer = next(b for b in model.bars if b.lane == model.lanes.index("timer: sleep"))
    assert (timer.outcome, timer.end - timer.start) == ("fired", 60.0)
    assert [m.label for m in model.markers] == ["approve"]
    [run] = [b for b in model.bars if b.lane == 0]
    assert run.outcome == "completed"


def test_interrupted_attempts_and_open_bars() -> None:
    b = HistoryBuilder()
    b.started()
    b.add(ev.ActivityScheduled, activity_id=1, activity_type="train", input=aion_payload())
    b.add(ev.ActivityStarted, activity_id=1, attempt=1)
    b.add(
        ev.ActivityFailed,
        activity_id=1,
        attempt=1,
        terminal=False,
        error=ErrorInfo(type=INTERRUPTED, message="host died"),
        retry_at=b.clock,
    )
    b.add(ev.ActivityStarted, activity_id=1, attempt=2)
    b.add(ev.TimerStarted, timer_id=1, fire_at=b.clock + timedelta(hours=1))
    model = build_timeline(b.events, now=b.clock + timedelta(seconds=30))
    lane = model.lanes.index("#1 train")
    assert [x.outcome for x in model.bars if x.lane == lane] == ["interrupted", "running"]
    timer = next(x for x in model.bars if x.lane == model.lanes.index("timer: sleep"))
    assert timer.outcome == "waiting"
    assert timer.end == model.end  # an open bar ends at now


def test_suspended_periods_come_from_the_lifecycle_log() -> None:
    b = HistoryBuilder()
    b.started()
    b.add(ev.TimerStarted, timer_id=1, fire_at=T0 + timedelta(seconds=100))
    b.add(ev.TimerFired, timer_id=1, recorded_at=T0 + timedelta(seconds=100))
    log = [
        LifecycleEntry(workflow_id="wf-1", recorded_at=T0 + timedelta(seconds=1), kind="resident"),
        LifecycleEntry(
            workflow_id="wf-1", recorded_at=T0 + timedelta(seconds=11), kind="suspended"
        ),
        LifecycleEntry(workflow_id="wf-1", recorded_at=T0 + timedelta(seconds=99), kind="resident"),
    ]
    model = build_timeline(b.events, log)
    assert model.shaded == [(10.0, 98.0)]  # offsets from the first event (T0 + 1 s)
    svg = aion.TimelinePicture(model).svg()
    assert "suspended-0" in svg_ids(svg)


def test_the_picture_has_one_element_per_attempt_and_saves(tmp_path: Path) -> None:
    tries.clear()
    engine = TestEngine()
    finished(engine, "tl-2")
    picture = engine.get("tl-2").timeline()
    ids = svg_ids(picture._repr_svg_() or "")
    attempts = sorted(
        i.rsplit("-", 2)[1] + "/" + i.rsplit("-", 1)[1] for i in ids if i.startswith("activity-")
    )
    assert attempts == ["1/1", "1/2", "2/1"]  # flaky's two attempts, echo's one
    assert any(i.startswith("signal-") for i in ids)
    assert picture._repr_png_() is None  # one format per picture: notebooks stay small
    png = picture.save(tmp_path / "t.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert picture.save(tmp_path / "t.svg").read_text().startswith("<?xml")
    with pytest.raises(aion.InvalidInputError):
        picture.save(tmp_path / "t.pdf")
    assert aion.TimelinePicture(picture.model, format="png")._repr_png_() == picture.png()


def test_a_long_history_draws_bounded() -> None:
    engine = TestEngine()
    handle = engine.start(many_steps, 400, id="long")
    handle.result()
    picture = handle.timeline()
    assert len(picture.model.lanes) == 401
    svg = picture.svg()
    drawn = [i for i in svg_ids(svg) if i.startswith("activity-")]
    assert len(drawn) == MAX_LANES - 2  # the lanes shown, less the workflow's own
    texts = [t.text for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert f"… {401 - (MAX_LANES - 1):,} more lanes" in texts
    assert "long (372 more bars not drawn)" in texts


def aion_payload() -> Payload:
    return encode([1])
