"""``aion`` against a running engine: every command and output format, and bad input."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import ROOT, LiveEngine, run_aion, run_many
from tests.cli.workflows import EVIL, broken, greet, waiter

pytestmark = pytest.mark.ray
LONG_ID = "greet-" + "x" * 90 + "-end"
"""Longer than any terminal: a table must still print it whole."""
W = "tests.cli.workflows"


def test_start_query_signal_result_and_cancel(live: LiveEngine) -> None:
    started, waiting, ordered = run_many(
        live.aion,
        ("start", f"{W}:greet", '"ada"', "--id", "g-1", "-o", "json"),
        ("start", f"{W}:waiter", "--id", "w-1"),
        ("start", f"{W}:order", '{"item": "tea", "quantity": 3}', "-o", "jsonl"),
    )
    assert started.json()["workflow_id"] == "g-1"
    assert started.json()["run_id"]
    assert started.json()["workflow_type"] == "greet"
    assert (waiting.code, "w-1" in waiting.stdout) == (0, True), waiting
    order_id = ordered.json()["workflow_id"]
    live.client.get(order_id).result(timeout=60)
    done, running, asked, tabled = run_many(
        live.aion,
        ("result", "g-1", "--wait", "-o", "json"),
        ("result", "w-1"),
        ("query", "w-1", "stage", '"at: "', "-o", "json"),
        ("result", order_id, "-o", "csv"),
    )
    assert done.json() == "hello ada"
    running.failed(6, "w-1", "--wait")
    assert asked.json() == "at: waiting"
    assert list(csv.reader(io.StringIO(tabled.stdout))) == [["value"], ["6"]]

    sent = live.aion("signal", "w-1", "go", '{"ok": [1, 2]}')
    assert (sent.code, sent.stdout) == (0, ""), sent
    assert live.aion("result", "w-1", "--wait", "--timeout", "60", "-o", "json").json() == {
        "ok": [1, 2]
    }


def test_cancel_by_id_and_by_where(live: LiveEngine) -> None:
    for workflow_id in ("c-1", "c-2", "c-3"):
        live.client.start(waiter, id=workflow_id)
    by_id, unconfirmed, both = run_many(
        live.aion,
        ("cancel", "c-1", "--reason", "not needed", "-o", "json"),
        ("cancel", "--where", "workflow_id IN ('c-2', 'c-3')"),
        ("cancel", "c-2", "--where", "true", "--yes"),
    )
    assert by_id.json() == [{"workflow_id": "c-1", "outcome": "cancel requested"}]
    unconfirmed.failed(2, "selects 2 workflows", "--yes")
    both.failed(2, "ids or --where")
    assert live.client.get("c-2").describe().status == "running"  # nothing was cancelled

    confirmed = live.aion("cancel", "--where", "workflow_id IN ('c-2', 'c-3')", "--yes")
    assert confirmed.code == 0, confirmed
    assert "c-2" in confirmed.stdout
    assert "c-3" in confirmed.stdout
    live.client.start(broken, "out of tea", id="b-1")
    cancelled, again, failed = run_many(
        live.aion,
        ("result", "c-1", "--wait"),
        ("cancel", "c-1", "-o", "jsonl"),
        ("result", "b-1", "--wait", "--timeout", "60"),
    )
    cancelled.failed(5, "cancelled", "not needed")
    failed.failed(5, "'b-1' failed", "RuntimeError: out of tea")
    assert json.loads(again.stdout) == {"workflow_id": "c-1", "outcome": "had ended"}


def test_terminate_by_id_then_again(live: LiveEngine) -> None:
    live.client.start(waiter, id="t-1")
    terminated = live.aion("terminate", "t-1", "--reason", "stuck", "-o", "json")
    assert terminated.json() == [{"workflow_id": "t-1", "outcome": "terminated"}]
    assert live.client.get("t-1").describe().status == "terminated"
    timed = live.aion("start", f"{W}:waiter", "--id", "x-1", "--execution-timeout", "0.5")
    assert timed.code == 0, timed
    again, ended, timed_out = run_many(
        live.aion,
        ("terminate", "t-1", "-o", "jsonl"),
        ("result", "t-1", "--wait"),
        ("result", "x-1", "--wait", "--timeout", "60"),
    )
    assert json.loads(again.stdout) == {"workflow_id": "t-1", "outcome": "had ended"}
    ended.failed(5, "terminated")
    timed_out.failed(5, "timed out")
    reopened, unconfirmed, by_where = run_many(
        live.aion,
        ("reopen", "t-1", "-o", "json"),
        ("reopen", "--where", "workflow_id = 'x-1'"),
        ("reopen", "--where", "workflow_id = 'x-1'", "--yes", "-o", "json"),
    )
    assert reopened.json() == [{"workflow_id": "t-1", "outcome": "reopened"}]
    unconfirmed.failed(2, "--yes")
    assert by_where.json() == [{"workflow_id": "x-1", "outcome": "reopened"}]
    assert live.client.get("t-1").describe().status == "running"
    running = live.aion("reopen", "t-1", "-o", "jsonl")
    assert json.loads(running.stdout)["outcome"].startswith("had not failed")
    live.client.get("t-1").terminate("done")


def test_pause_and_resume(live: LiveEngine) -> None:
    live.client.start(waiter, id="p-1")
    paused = live.aion("pause", "p-1", "--reason", "maintenance", "-o", "json")
    assert paused.json() == [{"workflow_id": "p-1", "outcome": "paused"}]
    assert live.client.get("p-1").describe().status == "paused"
    again, no_reason = run_many(
        live.aion, ("pause", "p-1", "-o", "jsonl"), ("resume", "p-1", "--reason", "x")
    )
    assert json.loads(again.stdout) == {"workflow_id": "p-1", "outcome": "was not running"}
    no_reason.failed(2, "--reason")
    resumed = live.aion("resume", "p-1", "-o", "json")
    assert resumed.json() == [{"workflow_id": "p-1", "outcome": "resumed"}]
    assert live.client.get("p-1").describe().status == "running"


@pytest.fixture(scope="module")
def finished(live: LiveEngine) -> LiveEngine:
    """Two greet runs (one under a very long id, one with markup in its result) and an
    order, ended, for the read-only commands."""
    for workflow_id, name in ((LONG_ID, "bob"), ("g-evil", EVIL)):
        live.client.start(greet, name, id=workflow_id).result(timeout=60)
    return live


def test_list_and_describe_in_every_format(finished: LiveEngine) -> None:
    as_json, as_jsonl, as_csv, as_table, narrowed, described, card, healthy = run_many(
        finished.aion,
        ("list", "-o", "json"),
        ("list", "--type", "greet", "-o", "jsonl"),
        ("list", "--status", "completed", "-o", "csv"),
        ("list", "--time-format", "relative"),
        (
            "list",
            "--where",
            f"workflow_id = '{LONG_ID}' OR workflow_type = 'no_such_type'",
            "--limit",
            "5",
            "-o",
            "json",
        ),
        ("describe", LONG_ID, "-o", "json"),
        ("describe", "g-evil"),
        ("health", "-o", "csv"),
    )
    infos = {info["workflow_id"]: info for info in as_json.json()}
    assert infos[LONG_ID]["status"] == "completed"
    assert infos[LONG_ID]["workflow_type"] == "greet"
    assert set(infos[LONG_ID]) >= {"run_id", "started_at", "closed_at", "search_attributes"}
    lines = [json.loads(line) for line in as_jsonl.stdout.splitlines()]
    assert {line["workflow_id"] for line in lines} >= {LONG_ID, "g-evil"}
    assert {line["workflow_type"] for line in lines} == {"greet"}
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert {row["status"] for row in rows} == {"completed"}
    assert LONG_ID in {row["workflow_id"] for row in rows}
    assert LONG_ID in as_table.stdout  # whole, on one line
    assert " ago" in as_table.stdout
    assert [info["workflow_id"] for info in narrowed.json()] == [LONG_ID]
    assert described.json() == infos[LONG_ID] | {"residency": described.json()["residency"]}
    [report] = list(csv.DictReader(io.StringIO(healthy.stdout)))
    assert report["ok"] == "True"
    assert report["store.path"] == finished.client.config.store_path
    assert int(report["pool.hosts"]) >= 1
    assert "g-evil" in card.stdout
    assert "completed" in card.stdout


def test_show_timeline_and_sql(finished: LiveEngine, tmp_path: Path) -> None:
    picture = tmp_path / "timeline.svg"
    table, events, rows, relative, lanes, text, drawn, answer, answer_csv = run_many(
        finished.aion,
        ("show", "g-evil"),
        ("show", LONG_ID, "-o", "json"),
        ("show", LONG_ID, "-o", "csv"),
        ("show", LONG_ID, "--time-format", "relative"),
        ("timeline", LONG_ID, "-o", "json"),
        ("timeline", "g-evil"),
        ("timeline", "g-evil", "--svg", str(picture), "-o", "jsonl"),
        (
            "sql",
            "SELECT workflow_id, count(*) AS n FROM events GROUP BY 1 ORDER BY 1",
            "-o",
            "json",
        ),
        ("sql", f"SELECT status FROM workflows WHERE workflow_id = '{LONG_ID}'", "-o", "csv"),
    )
    assert "WorkflowStarted" in table.stdout
    assert "WorkflowCompleted" in table.stdout
    assert EVIL in table.stdout  # printed as text, not read as markup
    documents = events.json()
    assert next(d["type"] for d in documents) == "WorkflowStarted"
    assert documents[-1]["type"] == "WorkflowCompleted"
    assert [r["seq"] for r in csv.DictReader(io.StringIO(rows.stdout))] == [
        str(d["seq"]) for d in documents
    ]
    assert "+" in relative.stdout
    assert "WorkflowCompleted" in relative.stdout
    assert {row["lane"] for row in lanes.json()} == {"workflow", "#1 shout"}
    assert "shout" in text.stdout
    assert "#" in text.stdout
    assert drawn.code == 0, drawn
    assert "<svg" in picture.read_text()
    counts = {row["workflow_id"]: row["n"] for row in answer.json()}
    assert counts[LONG_ID] == len(documents)
    assert answer_csv.stdout == "status\ncompleted\n"


def test_bad_input_is_one_line_and_an_exit_code(finished: LiveEngine) -> None:
    runs = run_many(
        finished.aion,
        ("describe", "nope"),
        ("show", "nope", "-o", "json"),
        ("signal", "nope", "go"),
        ("describe", " padded "),
        ("signal", "g-evil", "go", "[1,"),
        ("signal", "g-evil", "go", "1"),
        ("query", "g-evil", "stage", "{"),
        ("start", f"{W}:greet", "{bad"),
        ("start", f"{W}:order", '{"item": "tea"}'),
        ("start", f"{W}:Order"),
        ("start", "no.such.module:flow"),
        ("list", "--status", "finished"),
        ("list", "--where", "no_such_column = 1"),
        ("list", "--where", "true); DROP TABLE events; SELECT (1"),
        ("list", "--limit", "-1"),
        ("show", "g-evil", "--follow", "-o", "json"),
        ("cancel",),
        ("start", f"{W}:waiter", "--execution-timeout", "-1"),
        ("reopen", "nope"),
    )
    expected = [
        (3, "'nope' not found"),
        (3, "'nope' not found"),
        (3, "'nope' not found"),
        (2, "outer spaces"),
        (2, "payload is not valid JSON"),
        (1, "has ended"),
        (2, "query argument 1 is not valid JSON"),
        (2, "the input is not valid JSON"),
        (2, "quantity: Field required"),
        (2, "is not an @aion.workflow"),
        (2, "cannot import 'no.such.module'"),
        (2, "unknown status 'finished'"),
        (2, "no_such_column"),
        (2, "SQL refused"),
        (2, "--limit"),
        (2, "-o jsonl"),
        (2, "ids or --where"),
        (2, "execution_timeout"),
        (3, "'nope' not found"),
    ]
    for run, (code, words) in zip(runs, expected, strict=True):
        run.failed(code, words)
    assert "completed" in runs[11].stderr  # the statuses it knows are listed


def test_no_cluster_or_no_engine_is_unreachable(finished: LiveEngine, tmp_path: Path) -> None:
    nobody, nowhere, offline_start = run_many(
        lambda *args: run_aion(*args),
        (("--address", finished.address, "--namespace", "nobody"), "list"),
        (("--address", "127.0.0.1:1"), "list"),
        (("--history-file", str(tmp_path)), "start", f"{W}:greet"),
    )
    nobody.failed(4, "no aion engine runs in namespace 'nobody'")
    nowhere.failed(4, "cannot reach a Ray cluster at '127.0.0.1:1'")
    offline_start.failed(2, "needs a running engine")


def test_show_follow_streams_until_the_workflow_ends(live: LiveEngine) -> None:
    handle = live.client.start(waiter, id="f-1")
    command = [sys.executable, "-m", "aion_ray.cli", "--address", live.address]
    command += ["--namespace", live.namespace, "show", "f-1", "--follow", "-o", "jsonl"]
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as follower:
        assert follower.stdout is not None
        first = json.loads(follower.stdout.readline())  # printed while the workflow waits
        assert first["type"] == "WorkflowStarted"
        handle.signal("go", "now")
        rest = [json.loads(line) for line in follower.stdout]
        assert follower.wait(timeout=60) == 0
    assert rest[-1]["type"] == "WorkflowCompleted"
    assert "SignalReceived" in {event["type"] for event in rest}
    assert [e["seq"] for e in [first, *rest]] == list(range(1, len(rest) + 2))


def test_export_and_replay(finished: LiveEngine, tmp_path: Path) -> None:
    as_json, as_parquet, incremental = run_many(
        finished.aion,
        ("export", str(tmp_path / "json"), "--format", "json", "--id", LONG_ID, "-o", "json"),
        ("export", str(tmp_path / "parquet"), "-o", "json"),
        ("export", str(tmp_path / "store"), "--incremental", "-o", "json"),
    )
    written = {row["file"] for row in incremental.json()}
    assert written == {path.name for path in (tmp_path / "store").iterdir()}
    assert any(name.startswith("events-") for name in written)
    events = len(finished.client.get(LONG_ID).history())
    assert as_json.json() == [{"file": f"{LONG_ID}.json", "rows": events}]
    assert {row["file"] for row in as_parquet.json()} >= {"workflows.parquet", "timers.parquet"}
    exported = str(tmp_path / "json" / f"{LONG_ID}.json")
    same, changed, listed = run_many(
        finished.aion,
        ("replay", f"{W}:greet", "-o", "json"),
        ("replay", f"{W}:greet_changed", "--json", exported),
        ("--history-file", str(tmp_path / "parquet"), "list", "--type", "greet", "-o", "json"),
    )
    outcomes = {row["workflow_id"]: row["outcome"] for row in same.json()}
    assert outcomes[LONG_ID] == outcomes["g-evil"] == "ok"
    changed.failed(7, "1 of 1 histories diverge", LONG_ID, "whisper")
    assert LONG_ID in changed.stdout  # the report is printed before the exit
    assert {info["workflow_id"] for info in listed.json()} >= {LONG_ID, "g-evil"}
