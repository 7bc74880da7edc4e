"""The event model: JSON and pickle round trips, the discriminated union, and validation."""

from __future__ import annotations

import json
import pickle
import typing
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from aion_ray.model import events as ev
from aion_ray.model.events import EVENT_TYPES, Event, event_from_json, event_to_json
from aion_ray.model.payload import encode
from tests.builders import T0, cancelled_history, completed_history, one_of_each

ALL_EVENTS: list[ev.Event] = [*one_of_each(), *completed_history(), *cancelled_history()]


def union_members() -> set[type[ev.EventBase]]:
    union = typing.get_args(Event)[0]
    return set(typing.get_args(union))


def event_id(event: ev.Event) -> str:
    return f"{event.seq}-{event.type}"


def test_the_sample_histories_hold_every_event_type() -> None:
    assert {type(event) for event in ALL_EVENTS} == union_members()


def test_event_types_has_exactly_the_27_union_members() -> None:
    members = union_members()
    assert len(members) == 27
    assert set(EVENT_TYPES) == {cls.__name__ for cls in members}
    for name, cls in EVENT_TYPES.items():
        assert cls.__name__ == name
        assert cls.model_fields["type"].default == name


@pytest.mark.parametrize("event", ALL_EVENTS, ids=event_id)
def test_every_event_round_trips_through_json(event: ev.Event) -> None:
    text = event_to_json(event)
    assert json.loads(text)["type"] == type(event).__name__
    decoded = event_from_json(text)
    assert decoded == event
    assert type(decoded) is type(event)
    assert event_from_json(text.encode()) == event


@pytest.mark.parametrize("event", ALL_EVENTS, ids=event_id)
def test_every_event_round_trips_through_pickle(event: ev.Event) -> None:
    copy = pickle.loads(pickle.dumps(event))
    assert copy == event
    assert type(copy) is type(event)


def test_a_whole_history_round_trips_through_the_list_adapter() -> None:
    text = ev.EVENT_LIST_ADAPTER.dump_json(ALL_EVENTS)
    assert ev.EVENT_LIST_ADAPTER.validate_json(text) == ALL_EVENTS


@pytest.mark.parametrize("event", ALL_EVENTS, ids=event_id)
def test_the_type_tag_picks_the_class(event: ev.Event) -> None:
    data = event.model_dump(mode="json")
    decoded = ev.EVENT_ADAPTER.validate_python(data)
    assert type(decoded) is EVENT_TYPES[data["type"]]


def test_the_tag_decides_even_when_the_fields_fit_another_class() -> None:
    envelope = {"workflow_id": "w", "run_id": "r", "seq": 1, "recorded_at": T0.isoformat()}
    fired = event_from_json(json.dumps({**envelope, "type": "TimerFired", "timer_id": 3}))
    cancelled = event_from_json(json.dumps({**envelope, "type": "TimerCancelled", "timer_id": 3}))
    assert type(fired) is ev.TimerFired
    assert type(cancelled) is ev.TimerCancelled
    assert fired.model_dump(exclude={"type"}) == cancelled.model_dump(exclude={"type"})


def test_events_are_frozen() -> None:
    event = ALL_EVENTS[0]
    with pytest.raises(ValidationError):
        event.seq = 99  # type: ignore[misc]
    with pytest.raises(ValidationError):
        event.workflow_id = "other"  # type: ignore[misc]
    assert event.seq == 1


def valid_signal() -> dict[str, Any]:
    event = ev.SignalReceived(
        workflow_id="wf", run_id="run", seq=1, recorded_at=T0, name="go", payload=encode(1)
    )
    return event.model_dump(mode="json")


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "{",
        "[]",
        "null",
        '{"type": "SignalReceived"',
    ],
)
def test_malformed_json_is_a_validation_error(text: str) -> None:
    with pytest.raises(ValidationError):
        event_from_json(text)


@pytest.mark.parametrize(
    "change",
    [
        {"type": "SignalLost"},
        {"type": None},
        {"seq": 0},
        {"seq": -1},
        {"seq": "one"},
        {"workflow_id": ""},
        {"run_id": ""},
        {"name": ""},
        {"recorded_at": "2026-11-27T12:00:00"},
        {"recorded_at": "yesterday"},
        {"payload": {"codec": "xml", "value": 1}},
        {"unexpected": 1},
    ],
    ids=lambda change: "-".join(f"{k}={v}" for k, v in change.items()),
)
def test_invalid_fields_are_validation_errors(change: dict[str, Any]) -> None:
    data = {**valid_signal(), **change}
    with pytest.raises(ValidationError):
        event_from_json(json.dumps(data))


@pytest.mark.parametrize("missing", ["type", "workflow_id", "run_id", "seq", "recorded_at", "name"])
def test_missing_fields_are_validation_errors(missing: str) -> None:
    data = valid_signal()
    del data[missing]
    with pytest.raises(ValidationError):
        event_from_json(json.dumps(data))


def test_a_valid_signal_decodes() -> None:
    assert type(event_from_json(json.dumps(valid_signal()))) is ev.SignalReceived


def test_a_naive_datetime_is_refused_when_constructing() -> None:
    with pytest.raises(ValidationError):
        ev.TimerFired(
            workflow_id="w", run_id="r", seq=1, recorded_at=datetime(2026, 1, 1), timer_id=1
        )
    with pytest.raises(ValidationError):
        ev.TimerStarted(
            workflow_id="w",
            run_id="r",
            seq=1,
            recorded_at=T0,
            timer_id=1,
            fire_at=datetime(2026, 1, 1),
        )


@pytest.mark.parametrize("hours", [-5, 2, 5.5])
def test_recorded_at_in_another_timezone_is_normalised_to_utc(hours: float) -> None:
    local = T0.astimezone(timezone(timedelta(hours=hours)))
    event = ev.TimerFired(workflow_id="w", run_id="r", seq=1, recorded_at=local, timer_id=1)
    assert event.recorded_at == T0
    assert event.recorded_at.tzinfo is UTC
    assert event.recorded_at.hour == 12
    decoded = event_from_json(
        json.dumps({**json.loads(event_to_json(event)), "recorded_at": local.isoformat()})
    )
    assert decoded.recorded_at.tzinfo is UTC
    assert decoded.recorded_at == T0


def test_other_timestamps_are_normalised_to_utc_too() -> None:
    plus_two = timezone(timedelta(hours=2))
    started = ev.TimerStarted(
        workflow_id="w",
        run_id="r",
        seq=1,
        recorded_at=T0,
        timer_id=1,
        fire_at=T0.astimezone(plus_two),
    )
    assert started.fire_at.tzinfo is UTC
    assert started.fire_at == T0


def test_json_output_writes_timestamps_in_utc() -> None:
    local = T0.astimezone(timezone(timedelta(hours=-8)))
    event = ev.TimerFired(workflow_id="w", run_id="r", seq=1, recorded_at=local, timer_id=1)
    assert json.loads(event_to_json(event))["recorded_at"] in (
        "2026-11-27T12:00:00Z",
        "2026-11-27T12:00:00+00:00",
    )


def test_new_optional_fields_default_so_old_json_still_decodes() -> None:
    old = {
        "type": "WorkflowStarted",
        "workflow_id": "w",
        "run_id": "r",
        "seq": 1,
        "recorded_at": "2026-11-27T12:00:00Z",
        "workflow_type": "pipeline",
        "input": {"codec": "json", "value": None},
    }
    started = event_from_json(json.dumps(old))
    assert isinstance(started, ev.WorkflowStarted)
    assert started.parent_run_id is None
    assert started.code_fingerprint == ""
    assert started.execution_timeout is None


def test_terminal_events_are_the_six_run_enders() -> None:
    assert set(ev.TERMINAL_EVENTS) == {
        ev.WorkflowCompleted,
        ev.WorkflowFailed,
        ev.WorkflowCancelled,
        ev.WorkflowTimedOut,
        ev.WorkflowTerminated,
        ev.WorkflowContinuedAsNew,
    }
