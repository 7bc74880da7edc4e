"""Test kit for workflow authors: run workflows in-process with a clock that skips time, and
check that new code still replays recorded histories."""

from aion_ray.storage.memory import InMemoryHistoryStore
from aion_ray.testing.clock import FakeClock
from aion_ray.testing.engine import TestEngine
from aion_ray.testing.handle import TestWorkflowHandle
from aion_ray.testing.replay import ReplayResult, dump_history, load_history, replay
from aion_ray.testing.schedule_handle import TestScheduleHandle

__all__ = [
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
