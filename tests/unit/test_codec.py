"""Events -> table rows -> events: the store's codec, without a database."""

from __future__ import annotations

import pydantic
import pytest

from aion_ray.model import events as ev
from aion_ray.storage.codec import EventColumns, StoredRow, events_from_rows
from tests.builders import HistoryBuilder, one_of_each


def stored_rows(columns: EventColumns) -> list[StoredRow]:
    """The rows as the store reads them back: (seq, type, run_id, recorded_at_us, data)."""
    c = columns
    return list(zip(c.seq, c.type, c.run_id, c.recorded_at_us, c.data, strict=True))


def test_every_event_type_round_trips_through_rows() -> None:
    events = one_of_each()
    assert events_from_rows(events[0].workflow_id, stored_rows(EventColumns.of(events))) == events


def test_ids_that_need_json_escaping_round_trip() -> None:
    b = HistoryBuilder(workflow_id='wf "quoted" \\ back', run_id='run "1"')
    b.started()
    b.activity(1)
    assert events_from_rows(b.workflow_id, stored_rows(EventColumns.of(b.events))) == b.events


def test_empty_and_spaced_data_objects_decode() -> None:
    b = HistoryBuilder()
    started = b.started()
    rows = stored_rows(EventColumns.of(b.events))
    seq, type_, run_id, at, data = rows[0]
    spaced: StoredRow = (seq, type_, run_id, at, "{  " + data[1:])
    assert events_from_rows(b.workflow_id, [spaced]) == [started]
    resumed = b.add(ev.WorkflowResumed)  # every field at its default
    resumed_at = EventColumns.of([resumed]).recorded_at_us[0]
    for empty in ("{}", "{ }", "{\n}"):
        row: StoredRow = (resumed.seq, "WorkflowResumed", b.run_id, resumed_at, empty)
        assert events_from_rows(b.workflow_id, [row]) == [resumed]


def test_a_corrupt_row_raises_a_validation_error_naming_its_position() -> None:
    b = HistoryBuilder()
    b.started()
    b.activity(1)
    rows = stored_rows(EventColumns.of(b.events))
    seq, type_, run_id, at, _ = rows[1]
    rows[1] = (seq, type_, run_id, at, '{"activity_id": "not a number"}')
    with pytest.raises(pydantic.ValidationError, match=r"1\."):
        events_from_rows(b.workflow_id, rows)


def test_an_unknown_event_type_is_named_in_the_error() -> None:
    b = HistoryBuilder()
    b.started()
    seq, _, run_id, at, data = stored_rows(EventColumns.of(b.events))[0]
    with pytest.raises(pydantic.ValidationError, match="NoSuchEvent"):
        events_from_rows(b.workflow_id, [(seq, "NoSuchEvent", run_id, at, data)])


def test_no_rows_decode_to_no_events() -> None:
    assert events_from_rows("wf-empty", []) == []
