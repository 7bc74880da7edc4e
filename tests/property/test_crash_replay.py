"""Property: crashes at random points change nothing a workflow does.

For random programs and random signal arrivals, a run with crashes injected after random
engine steps must end with the same result and history as an uninterrupted run, and no
activity may run again once it completed. Crash points are drawn as fractions of the
uninterrupted run's own step count, so every example with crash points really crashes
(asserted), and hypothesis' statistics (``--hypothesis-show-statistics``) report how many
did. Two kinds of crash: the runtime rebuilt from history (in-flight work kept), and the whole
host lost (in-flight work dropped, recovered from the store; its histories may differ only by
the attempt records of interrupted work).
"""

from __future__ import annotations

import collections
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import event as report
from hypothesis import strategies as st

from aion_ray.model import events as ev
from aion_ray.testing import TestEngine
from tests.property.programs import EXECUTED, arrivals, cancel_times, interpreter, programs


class CrashingEngine(TestEngine):
    """A TestEngine that crashes after the engine steps named in ``crash_after``."""

    def __init__(self, crash_after: set[int], host: bool) -> None:
        super().__init__(step_hook=self._maybe_crash)
        self.crash_after = crash_after
        self.host = host
        self.steps = 0
        self.crashes = 0

    def _maybe_crash(self) -> None:
        self.steps += 1
        if self.steps in self.crash_after:
            self.crashes += 1
            self.crash() if self.host else self.rebuild_runs()


@dataclass
class Outcome:
    result: Any
    history: list[ev.Event]
    executed: collections.Counter[str]


def execute(
    program: list[Any], signals: list[Any], cancel_at: int | None, engine: TestEngine
) -> Outcome:
    EXECUTED.clear()
    handle = engine.start(interpreter, program, id="prop")
    actions: list[tuple[int, str, tuple[Any, ...]]] = [
        (at, "signal", (name, value)) for at, name, value in signals
    ]
    if cancel_at is not None:
        actions.append((cancel_at, "cancel", ()))
    elapsed = 0
    for at, kind, args in sorted(actions, key=lambda a: a[0]):
        engine.sleep(at - elapsed)
        elapsed = at
        if handle.describe().status != "running":
            break
        if kind == "signal":
            handle.signal(*args)
        else:
            handle.cancel("test")
    try:
        result: Any = handle.result()
    except TimeoutError:
        result = "blocked"
    return Outcome(result, handle.history(), collections.Counter(EXECUTED))


def semantic(history: list[ev.Event]) -> list[dict[str, Any]]:
    """A history without attempt bookkeeping, seqs and the lease-dependent parts."""
    kept = []
    for event in history:
        if isinstance(event, ev.ActivityStarted) or (
            isinstance(event, ev.ActivityFailed) and not event.terminal
        ):
            continue
        kept.append(event.model_dump(exclude={"seq", "attempt"}))
    return kept


def check_exactly_once(outcome: Outcome) -> None:
    completed = [e for e in outcome.history if isinstance(e, ev.ActivityCompleted)]
    attempts = sum(outcome.executed.values())
    failed = sum(
        1
        for e in outcome.history
        if isinstance(e, ev.ActivityFailed) and e.error.type == "ConnectionError"
    )
    # Every execution either completed once or is a recorded, retried failure.
    assert attempts == len(completed) + failed


crash_points = st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=4)
"""Where to crash, as fractions of the uninterrupted run's steps."""


def baseline_and_crash_steps(
    program: list[Any], signals: list[Any], cancel_at: int | None, points: list[float]
) -> tuple[Outcome, set[int]]:
    """The uninterrupted run, and the engine steps (1-based) of it to crash after."""
    counter = CrashingEngine(set(), host=False)
    baseline = execute(program, signals, cancel_at, counter)
    return baseline, {1 + int(point * counter.steps) for point in points if counter.steps}


def crashed_run(
    program: list[Any], signals: list[Any], cancel_at: int | None, steps: set[int], host: bool
) -> Outcome:
    engine = CrashingEngine(steps, host=host)
    outcome = execute(program, signals, cancel_at, engine)
    # The crashed run is the baseline up to its first crash, so that crash always happens.
    assert engine.crashes >= min(1, len(steps))
    report(f"crashed {engine.crashes} time(s)" if engine.crashes else "no engine step to crash at")
    return outcome


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, arrivals, cancel_times, crash_points)
def test_runtime_rebuilds_change_nothing(
    program: list[Any], signals: list[Any], cancel_at: int | None, points: list[float]
) -> None:
    baseline, steps = baseline_and_crash_steps(program, signals, cancel_at, points)
    crashed = crashed_run(program, signals, cancel_at, steps, host=False)
    assert crashed.result == baseline.result
    assert crashed.history == baseline.history
    assert crashed.executed == baseline.executed
    check_exactly_once(crashed)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, arrivals, cancel_times, crash_points)
def test_host_crashes_change_nothing_but_attempt_records(
    program: list[Any], signals: list[Any], cancel_at: int | None, points: list[float]
) -> None:
    baseline, steps = baseline_and_crash_steps(program, signals, cancel_at, points)
    crashed = crashed_run(program, signals, cancel_at, steps, host=True)
    assert crashed.result == baseline.result
    assert semantic(crashed.history) == semantic(baseline.history)
    check_exactly_once(crashed)
    for token, count in crashed.executed.items():
        assert count <= baseline.executed[token], f"{token} ran again after it completed"
