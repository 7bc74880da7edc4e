"""``aion schedule``: create, list, describe, pause, unpause, trigger, backfill and delete
against a running engine, in the output formats, and bad input as one line and an exit
code (2 for a bad spec or time, 3 for an unknown schedule)."""

from __future__ import annotations

import csv
import io

import pytest

from tests.cli.conftest import LiveEngine, run_many

pytestmark = pytest.mark.ray
W = "tests.cli.workflows"
TICK = "2026-01-01T03:00:00+00:00"


def test_every_schedule_subcommand(live: LiveEngine) -> None:
    made = live.aion(
        "schedule",
        "create",
        "nightly",
        f"{W}:greet",
        '"ada"',
        "--cron",
        "0 3 * * *",
        "--overlap",
        "allow_all",
        "-o",
        "json",
    )
    assert made.json()["schedule_id"] == "nightly"
    assert made.json()["when"] == "cron 0 3 * * * (UTC)"
    listed, described, triggered, backfilled, paused = run_many(
        live.aion,
        ("schedule", "list", "-o", "json"),
        ("schedule", "describe", "nightly", "-o", "csv"),
        ("schedule", "trigger", "nightly", "-o", "json"),
        ("schedule", "backfill", "nightly", TICK, TICK, "-o", "jsonl"),
        ("schedule", "pause", "nightly", "--note", "holiday"),
    )
    assert [s["schedule_id"] for s in listed.json()] == ["nightly"]
    [row] = list(csv.DictReader(io.StringIO(described.stdout)))
    assert (row["schedule_id"], row["workflow_type"]) == ("nightly", "greet")
    assert triggered.json() == {"schedule_id": "nightly", "outcome": "triggered"}
    assert backfilled.json()["outcome"].startswith("backfilled")
    assert (paused.code, "paused" in paused.stdout) == (0, True), paused

    now = live.aion("schedule", "describe", "nightly", "-o", "json").json()
    assert (now["paused"], now["note"]) == (True, "holiday")
    assert {run["origin"] for run in now["recent_runs"]} == {"trigger", "backfill"}
    assert live.client.get("nightly@2026-01-01T03:00:00Z").result(timeout=60) == "hello ada"

    unpaused, deleted = run_many(
        live.aion, ("schedule", "unpause", "nightly"), ("schedule", "list", "-o", "csv")
    )
    assert unpaused.code == 0, unpaused
    assert "nightly" in deleted.stdout
    assert live.aion("schedule", "delete", "nightly").code == 0
    live.aion("schedule", "describe", "nightly").failed(3, "nightly")


def test_bad_schedule_input_is_one_line_and_an_exit_code(live: LiveEngine) -> None:
    zero, cron, naive, unknown = run_many(
        live.aion,
        ("schedule", "create", "s", f"{W}:greet", '"x"', "--every", "0"),
        ("schedule", "create", "s", f"{W}:greet", '"x"', "--cron", "61 * * * *"),
        ("schedule", "backfill", "s", "2026-01-01T03:00:00", TICK),
        ("schedule", "trigger", "nope"),
    )
    zero.failed(2, "every")
    cron.failed(2, "cron")
    naive.failed(2, "START", "zone")
    unknown.failed(3, "nope")
    assert live.client.list_schedules() == []
