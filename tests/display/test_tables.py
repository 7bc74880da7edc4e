"""Rich displays without Ray: histories, workflow lists and handles as HTML, escaped and
bounded; histories as Arrow and pandas."""

from __future__ import annotations

import html.parser
import subprocess
import sys

import pytest

import aion_ray as aion
from aion_ray.display.history import MAX_ROWS, History
from aion_ray.display.infos import WorkflowList
from aion_ray.testing import TestEngine
from tests.display.workflows import EVIL, many_steps, pipeline


class Collect(html.parser.HTMLParser):
    """The tags and text of an HTML snippet, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(snippet: str) -> Collect:
    collector = Collect()
    collector.feed(snippet)
    collector.close()
    return collector


def finished_pipeline(engine: TestEngine, workflow_id: str = "p-1") -> aion.History:
    handle = engine.start(pipeline, EVIL, id=workflow_id)
    engine.sleep(120)
    handle.signal("approve", EVIL)
    handle.result()
    return handle.history()


def test_a_history_is_still_a_list_of_events() -> None:
    history = finished_pipeline(TestEngine())
    assert isinstance(history, list)
    assert isinstance(history, History)
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    assert history[-1].type == "WorkflowCompleted"
    assert repr(history) == f"History('p-1': {len(history)} events, seq 1..{len(history)})"


def test_user_data_is_escaped_in_every_display() -> None:
    engine = TestEngine()
    history = finished_pipeline(engine)
    handle = engine.get("p-1")
    displays = {
        "history": history._repr_html_(),
        "handle": handle._repr_html_(),
        "list": WorkflowList(engine.list())._repr_html_(),
        "info": handle.describe()._repr_html_(),
    }
    for name, snippet in displays.items():
        tags = set(parsed(snippet).tags)
        assert not tags & {"script", "img"}, f"{name} display let user markup through"
    # The payload is shown, as text: the parsed table text holds it literally.
    assert EVIL in "".join(parsed(displays["history"]).text)


def test_a_handle_shows_its_status_and_latest_events() -> None:
    engine = TestEngine()
    finished_pipeline(engine)
    handle = engine.get("p-1")
    text = "".join(parsed(handle._repr_html_()).text)
    assert "completed" in text
    assert "pipeline" in text
    assert "WorkflowCompleted" in text
    assert repr(handle) == "TestWorkflowHandle('p-1', type='pipeline')"


def test_a_missing_workflow_shows_the_error_instead_of_raising() -> None:
    engine = TestEngine()
    handle = engine.start(pipeline, "x", id="gone")
    engine.store.close()  # the store is unreachable: the display says so instead of raising
    text = "".join(parsed(handle._repr_html_()).text)
    assert "gone" in text
    assert "Error" in text


def test_big_payloads_are_abbreviated() -> None:
    engine = TestEngine()
    engine.start(pipeline, "y" * 10_000, id="big")
    snippet = engine.get("big").history()._repr_html_()
    assert "y" * 200 not in snippet
    assert "more chars" in "".join(parsed(snippet).text) or "chars)" in snippet


def test_a_10000_event_history_renders_bounded() -> None:
    engine = TestEngine()
    handle = engine.start(many_steps, 3400, id="long")
    handle.result()
    history = handle.history()
    assert len(history) > 10_000
    snippet = history._repr_html_()  # its speed: python -m benchmarks.display_bench
    rows = parsed(snippet).tags.count("tr")
    assert rows == MAX_ROWS + 2  # the header, the shown events and one row for the rest
    assert f"{len(history) - MAX_ROWS:,} more events not shown" in snippet
    assert len(snippet) < 40_000


def test_a_workflow_list_renders_as_a_table() -> None:
    engine = TestEngine()
    finished_pipeline(engine, "p-1")
    engine.start(pipeline, "z", id="p-2")
    listed = WorkflowList(engine.list())
    assert [info.workflow_id for info in listed] == ["p-1", "p-1-c", "p-2"]
    collected = parsed(listed._repr_html_())
    assert collected.tags.count("tr") == 4
    assert "running" in collected.text
    assert "completed" in collected.text
    assert repr(listed) == "WorkflowList(3 workflows: 2 completed, 1 running)"


def test_a_history_converts_to_arrow_and_pandas() -> None:
    history = finished_pipeline(TestEngine())
    table = history.to_arrow()
    assert table.num_rows == len(history)
    assert table.column("seq").to_pylist() == [e.seq for e in history]
    assert table.column("type").to_pylist() == [e.type for e in history]
    assert table.column("offset_s").to_pylist()[0] == 0.0
    frame = history.to_pandas()
    assert list(frame["type"]) == [e.type for e in history]
    assert frame["recorded_at"].dt.tz is not None


def test_importing_the_package_loads_no_plotting_or_frames() -> None:
    probe = (
        "import sys, aion_ray, aion_ray.display; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'matplotlib', 'pandas', 'pyarrow', 'tqdm', 'ray', 'duckdb'}))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("bad", ["p-1", 3, None])
def test_wait_refuses_what_is_not_a_list_of_handles(bad: object) -> None:
    with pytest.raises(aion.InvalidInputError):
        aion.wait(bad)  # type: ignore[arg-type]
