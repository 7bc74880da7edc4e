"""replay(): check that current workflow code still replays a recorded history.

Use it in CI against histories exported from production (``dump_history``/``load_history``
read and write them as JSON), before deploying a change to a workflow's code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.errors import InvalidInputError
from aion_ray.model import events as ev
from aion_ray.model.history import run_segments
from aion_ray.runtime.run import WorkflowRun


@dataclass(frozen=True)
class ReplayResult:
    """What a successful replay covered: ``commands`` counts the recorded command events
    (activities, timers, children, signals sent, markers, closes) the code asked for again."""

    runs: int
    events: int
    commands: int


def replay(history: Sequence[ev.Event], workflow: WorkflowDefinition[Any]) -> ReplayResult:
    """Replay every run of ``history`` with ``workflow``'s current code.

    Raises NonDeterminismError at the first divergence (naming the seq, what the history
    holds and what the code asked for), InvalidInputError if the history is not one of
    ``workflow``'s.
    """
    segments = run_segments(history)
    if not segments:
        raise InvalidInputError("the history holds no WorkflowStarted event")
    commands = 0
    for segment in segments:
        run = WorkflowRun(workflow, history[segment.start : segment.stop])
        run.advance()
        if run.violation is not None:
            raise run.violation
        commands += run.cursor.matched
    return ReplayResult(runs=len(segments), events=len(history), commands=commands)


def dump_history(events: Sequence[ev.Event], path: str | Path) -> None:
    """Write a history as a JSON array of events (the golden-file format)."""
    documents = [json.loads(ev.event_to_json(event)) for event in events]
    Path(path).write_text(json.dumps(documents, indent=1) + "\n")


def load_history(path: str | Path) -> list[ev.Event]:
    """Read a history written by ``dump_history``."""
    return ev.EVENT_LIST_ADAPTER.validate_json(Path(path).read_text())
