"""InProcessHost: the host side of the TestEngine, everything the drivers ask of it.

Activities run inline, one at a time, when the host gets to them; timers, retries and
deadlines are wakes on a heap keyed by fake time; children and signals are routed between the
host's own drivers. Whenever nothing is ready, ``run_until`` jumps the fake clock to the next
wake, so a 30-day sleep takes milliseconds.
"""

from __future__ import annotations

import builtins
import collections
import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.engine.driver import WakeKey, WorkflowDriver
from aion_ray.engine.recorder import Recorder, draft
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.history import current_run, current_terminal
from aion_ray.model.payload import DEFAULT_MAX_PAYLOAD_BYTES
from aion_ray.runtime import commands as cmd
from aion_ray.storage.contract import HistoryStore, LifecycleEntry
from aion_ray.storage.memory import InMemoryHistoryStore
from aion_ray.testing.activities import execute_activity
from aion_ray.testing.clock import FakeClock


@dataclass(order=True)
class _Wake:
    at: datetime
    order: int
    workflow_id: str = field(compare=False)
    key: WakeKey = field(compare=False)
    driver: WorkflowDriver = field(compare=False)
    live: bool = field(default=True, compare=False)


class InProcessHost:
    """Hosts workflow drivers in this process; the Effects of every driver it creates."""

    def __init__(
        self,
        *,
        clock: FakeClock | None = None,
        store: HistoryStore | None = None,
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        seed: int = 0,
        step_hook: Callable[[], None] | None = None,
    ) -> None:
        self.clock = clock or FakeClock()
        # Seeded ids: the same test produces the same workflow and run ids, so the values of
        # ctx.random() and ctx.uuid4() (seeded from those ids) are reproducible too.
        self._ids = random.Random(seed)
        self.store: HistoryStore = store or InMemoryHistoryStore()
        self.max_payload_bytes = max_payload_bytes
        self.activity_calls: collections.Counter[str] = collections.Counter()
        self._definitions: dict[str, WorkflowDefinition[Any]] = {}
        self._drivers: dict[str, WorkflowDriver] = {}
        self._parents: dict[str, tuple[str, int]] = {}
        self._ready: collections.deque[Callable[[], None]] = collections.deque()
        self._wakes: list[_Wake] = []
        self._armed: dict[tuple[str, WakeKey], _Wake] = {}
        self._cancelled: set[tuple[str, str, int]] = set()
        self._order = itertools.count()
        # Called after every unit of work (an activity, a timer, a message): a place to
        # inject faults, e.g. ``engine.crash()``, at any point of a test.
        self.step_hook = step_hook

    # --- driving -------------------------------------------------------------------------------

    def run_until_idle(self) -> None:
        """Do all work that is ready now, without moving the clock."""
        while self._ready:
            self._ready.popleft()()
            self._stepped()

    def run_until(self, done: Callable[[], bool], *, until: datetime | None = None) -> None:
        """Run, skipping time from timer to timer, until ``done()``; TimeoutError if nothing
        is left to run before it, or the clock would pass ``until``."""
        while True:
            self.run_until_idle()
            if done():
                return
            wake = self._next_wake()
            if wake is None:
                raise TimeoutError(
                    "the engine has nothing left to run: the workflow waits for something "
                    "only the test can provide (a signal? a cancel?)"
                )
            if until is not None and wake.at > until:
                self.clock.set(until)
                raise TimeoutError(f"not done by {until.isoformat()} (fake time)")
            self.clock.set(wake.at)
            self._fire_due()

    def sleep(self, seconds: float) -> None:
        """Move the fake clock forward, firing every timer that falls due on the way."""
        target = self.clock.now().timestamp() + seconds
        while (wake := self._next_wake()) is not None and wake.at.timestamp() <= target:
            self.clock.set(wake.at)
            self._fire_due()
            self.run_until_idle()
        self.clock.advance(max(0.0, target - self.clock.now().timestamp()))
        self.run_until_idle()

    def crash(self, workflow_id: str | None = None) -> None:
        """Simulate the host dying: drop in-flight work, then recover from the store."""
        victims = [workflow_id] if workflow_id is not None else list(self._drivers)
        for victim in victims:
            self._drivers.pop(victim, None)
        for victim in victims:
            self._recover(victim)
        self.run_until_idle()

    def rebuild_runs(self, workflow_id: str | None = None) -> None:
        """Replay the current run(s) from history, keeping in-flight work (a runtime restart)."""
        for victim in [workflow_id] if workflow_id else list(self._drivers):
            driver = self._drivers.get(victim)
            if driver is not None:
                driver.rebuild_run()
        self.run_until_idle()

    def driver(self, workflow_id: str) -> WorkflowDriver | None:
        return self._drivers.get(workflow_id)

    # --- the Effects the drivers call ----------------------------------------------------------

    def start_activity(
        self, driver: WorkflowDriver, command: cmd.ScheduleActivity, attempt: int
    ) -> None:
        run_id = driver.recorder.run_id
        self._ready.append(lambda: self._run_activity(driver, run_id, command, attempt))

    def cancel_activity(self, driver: WorkflowDriver, activity_id: int) -> None:
        self._cancelled.add((driver.workflow_id, driver.recorder.run_id, activity_id))

    def arm(self, driver: WorkflowDriver, key: WakeKey, at: datetime) -> None:
        self.disarm(driver, key)
        wake = _Wake(at, next(self._order), driver.workflow_id, key, driver)
        self._armed[(driver.workflow_id, key)] = wake
        heapq.heappush(self._wakes, wake)

    def disarm(self, driver: WorkflowDriver, key: WakeKey) -> None:
        wake = self._armed.pop((driver.workflow_id, key), None)
        if wake is not None:
            wake.live = False

    def start_child(self, driver: WorkflowDriver, command: cmd.StartChild) -> None:
        self._ready.append(lambda: self._start_child(driver, command))

    def send_signal(self, driver: WorkflowDriver, command: cmd.SendSignal) -> None:
        request = f"{driver.workflow_id}:{driver.recorder.run_id}:send-{command.send_id}"
        self._ready.append(lambda: self._route_signal(command, request))

    def closed(self, driver: WorkflowDriver, terminal: ev.Event) -> None:
        parent = self._parents.get(driver.workflow_id)
        if parent is not None and not isinstance(terminal, ev.WorkflowContinuedAsNew):
            parent_id, child_id = parent
            self._ready.append(lambda: self._notify_parent(parent_id, child_id, terminal))

    # --- internals -----------------------------------------------------------------------------

    def _stepped(self) -> None:
        if self.step_hook is not None:
            self.step_hook()

    def _bytes(self, count: int) -> bytes:
        return self._ids.randbytes(count)

    def _launch(
        self, workflow_id: str, definition: WorkflowDefinition[Any], started: Any, run_id: str
    ) -> None:
        lease = self.store.acquire_lease(workflow_id, holder="test-engine")
        recorder = Recorder(self.store, lease, self.clock, [])
        history = recorder.record([started], run_id=run_id)
        self._host(definition, recorder, history)

    def _host(
        self,
        definition: WorkflowDefinition[Any],
        recorder: Recorder,
        history: builtins.list[ev.Event],
    ) -> None:
        driver = WorkflowDriver(definition, recorder, history, self)
        self._drivers[recorder.workflow_id] = driver
        started = current_run(history)[0]
        if isinstance(started, ev.WorkflowStarted) and started.parent is not None:
            self._parents[recorder.workflow_id] = (
                started.parent.workflow_id,
                started.parent.child_id,
            )
        self.store.record_lifecycle(
            [
                LifecycleEntry(
                    workflow_id=recorder.workflow_id,
                    run_id=recorder.run_id,
                    recorded_at=self.clock.now(),
                    kind="resident",
                    detail={"host": "test"},
                )
            ]
        )
        driver.resume()

    def _recover(self, workflow_id: str) -> None:
        history = self.store.read_history(workflow_id)
        if not history or current_terminal(history) is not None:
            return
        started = current_run(history)[0]
        assert isinstance(started, ev.WorkflowStarted)
        definition = self._definitions[started.workflow_type]
        lease = self.store.acquire_lease(workflow_id, holder="test-engine")
        self._host(definition, Recorder(self.store, lease, self.clock, history), history)

    def _current(self, driver: WorkflowDriver) -> bool:
        return self._drivers.get(driver.workflow_id) is driver

    def _run_activity(
        self, driver: WorkflowDriver, run_id: str, command: cmd.ScheduleActivity, attempt: int
    ) -> None:
        if (
            not self._current(driver)
            or (driver.workflow_id, run_id, command.activity_id) in self._cancelled
        ):
            return
        self.activity_calls[command.activity_type] += 1
        result, error = execute_activity(command, self.max_payload_bytes)
        if self._current(driver):
            driver.activity_finished(command.activity_id, attempt, result, error)

    def _next_wake(self) -> _Wake | None:
        while self._wakes and (not self._wakes[0].live or not self._current(self._wakes[0].driver)):
            heapq.heappop(self._wakes)
        return self._wakes[0] if self._wakes else None

    def _fire_due(self) -> None:
        now = self.clock.now()
        while (wake := self._next_wake()) is not None and wake.at <= now:
            heapq.heappop(self._wakes)
            self._armed.pop((wake.workflow_id, wake.key), None)
            wake.driver.wake(wake.key)
            self._stepped()

    def _start_child(self, parent: WorkflowDriver, command: cmd.StartChild) -> None:
        history = self.store.read_history(command.child_workflow_id)
        if history:
            first = history[0]
            terminal = current_terminal(history)
            if isinstance(first, ev.WorkflowStarted) and first.run_id == command.child_run_id:
                if terminal is not None and not isinstance(terminal, ev.WorkflowContinuedAsNew):
                    self._notify_parent(parent.workflow_id, command.child_id, terminal)
                return
            message = f"workflow id {command.child_workflow_id!r} is already taken"
            error = ErrorInfo(type="WorkflowAlreadyStartedError", message=message)
            parent.child_not_started(command.child_id, error)
            return
        definition = command.definition or self._definitions.get(command.workflow_type)
        if definition is None:
            message = f"unknown workflow type {command.workflow_type!r}"
            parent.child_not_started(
                command.child_id, ErrorInfo(type="InvalidInputError", message=message)
            )
            return
        self._definitions[definition.name] = definition
        parent_ref = ev.ParentRef(
            workflow_id=parent.workflow_id, run_id=parent.recorder.run_id, child_id=command.child_id
        )
        started = draft(
            ev.WorkflowStarted,
            workflow_type=definition.name,
            input=command.input,
            parent=parent_ref,
            code_fingerprint=definition.fingerprint,
            execution_timeout=definition.timeout,
        )
        self._launch(command.child_workflow_id, definition, started, command.child_run_id)

    def _notify_parent(self, parent_id: str, child_id: int, terminal: ev.Event) -> None:
        parent = self._drivers.get(parent_id)
        if parent is not None:
            parent.child_finished(child_id, terminal)

    def _route_signal(self, command: cmd.SendSignal, request_id: str) -> None:
        target = self._drivers.get(command.target_workflow_id)
        if target is not None and target.recorder.is_open:
            target.signal(command.name, command.payload, request_id)
            return
        self.store.record_lifecycle(
            [
                LifecycleEntry(
                    workflow_id=command.target_workflow_id,
                    recorded_at=self.clock.now(),
                    kind="signal_undeliverable",
                    detail={"signal": command.name},
                )
            ]
        )
