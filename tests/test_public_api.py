"""The public surface is curated: this pins it, so a change to it is a deliberate one."""

from __future__ import annotations

import aion_ray
import aion_ray.testing

EXPECTED = [
    "ActivityDefinition",
    "ActivityError",
    "ActivityOptions",
    "AionError",
    "ChildHandle",
    "Client",
    "EngineUnavailableError",
    "FencedError",
    "Health",
    "History",
    "InvalidInputError",
    "NonDeterminismError",
    "OfflineHistories",
    "PayloadError",
    "QueryError",
    "RetryPolicy",
    "ScheduleDescription",
    "ScheduleHandle",
    "ScheduleNotFoundError",
    "ScheduleRun",
    "ScheduleSpec",
    "ScheduleSpecError",
    "SequenceConflictError",
    "StoreError",
    "TimelinePicture",
    "WorkflowAlreadyStartedError",
    "WorkflowCancelledError",
    "WorkflowContext",
    "WorkflowDefinition",
    "WorkflowFailedError",
    "WorkflowHandle",
    "WorkflowInfo",
    "WorkflowList",
    "WorkflowNotFoundError",
    "WorkflowRunInfo",
    "WorkflowStateError",
    "WorkflowStatus",
    "WorkflowTerminalError",
    "WorkflowTerminatedError",
    "WorkflowTimedOutError",
    "WorkflowUsageError",
    "activity",
    "activity_logger",
    "connect",
    "heartbeat",
    "open_history",
    "wait",
    "wait_async",
    "workflow",
]
TESTING = [
    "FakeClock",
    "InMemoryHistoryStore",
    "ReplayResult",
    "TestEngine",
    "TestScheduleHandle",
    "TestWorkflowHandle",
    "dump_history",
    "load_history",
    "replay",
]


def test_the_public_names_are_pinned() -> None:
    assert aion_ray.__all__ == EXPECTED
    assert aion_ray.testing.__all__ == TESTING


def test_every_public_name_exists() -> None:
    for name in EXPECTED:
        assert getattr(aion_ray, name) is not None
    for name in TESTING:
        assert getattr(aion_ray.testing, name) is not None


def test_importing_the_core_does_not_load_ray_or_duckdb() -> None:
    import subprocess
    import sys

    probe = "import sys, aion_ray; print('ray' in sys.modules, 'duckdb' in sys.modules)"
    output = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert output.stdout.split() == ["False", "False"]
