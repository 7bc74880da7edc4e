"""InProcessHost: the host side of the TestEngine: the engine's HostCore, driven in-process.

Activities run inline when the host gets to them; timers, retries and deadlines are wakes on a
heap keyed by fake time; children and signals go between the host's own drivers. After each
unit of work the shared pump appends what must be durable in one ``append_batch``, then
performs its effects; when nothing is ready, ``run_until`` jumps the fake clock to the next wake.
"""

from __future__ import annotations

import collections
import random
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from aion_ray.authoring.heartbeat import Throttle, interval_for
from aion_ray.engine.activities import execute_activity
from aion_ray.engine.driver import WorkflowDriver
from aion_ray.engine.host import HostCore
from aion_ray.engine.pump import APPEND_RETRY_DELAYS, DEFAULT_LOCAL_BOUND, Batch, Failure
from aion_ray.engine.starts import child_start
from aion_ray.errors import AionError, StoreError
from aion_ray.model import events as ev
from aion_ray.model.history import current_run, current_terminal
from aion_ray.model.payload import DEFAULT_MAX_PAYLOAD_BYTES, encode
from aion_ray.model.store import AppendResult, WakeKey
from aion_ray.runtime import commands as cmd
from aion_ray.storage.contract import HistoryStore
from aion_ray.storage.memory import InMemoryHistoryStore
from aion_ray.testing.clock import FakeClock
from aion_ray.testing.residency import InProcessResidency
from aion_ray.testing.wakes import DriverWakes


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
        local_bound: timedelta = DEFAULT_LOCAL_BOUND,
        idle_timeout: float | None = None,
        restart_limit: tuple[int, float] | None = None,
    ) -> None:
        self.clock = clock or FakeClock()
        # Seeded ids: the same test produces the same workflow and run ids, so the values of
        # ctx.random() and ctx.uuid4() (seeded from those ids) are reproducible too.
        self._ids = random.Random(seed)
        self.store: HistoryStore = store or InMemoryHistoryStore()
        self.max_payload_bytes = max_payload_bytes
        self.core = HostCore(self, self.clock, holder="test-engine", local_bound=local_bound)
        self.activity_calls: collections.Counter[str] = collections.Counter()
        self._ready: collections.deque[Callable[[], None]] = collections.deque()
        self.wakes = DriverWakes(self.core.is_current)
        self._cancelled: set[tuple[str, str, int]] = set()
        # Called after every unit of work (an activity, a timer, a message): a place to
        # inject faults, e.g. ``engine.crash()``, at any point of a test.
        self.step_hook = step_hook
        self.residency = InProcessResidency(self, idle_timeout, restart_limit)

    # --- driving -------------------------------------------------------------------------------

    def run_until_idle(self) -> None:
        """Do all work that is ready now, without moving the clock."""
        self.commit()
        while self._ready:
            self._ready.popleft()()
            self.commit()
            self._stepped()

    def run_until(self, done: Callable[[], bool], *, until: datetime | None = None) -> None:
        """Run, skipping time from timer to timer, until ``done()``; TimeoutError if nothing
        is left to run before it, or the clock would pass ``until``."""
        while True:
            self.run_until_idle()
            if done():
                return
            at = self._next_time()
            if at is None or self._next_time(ticks=False) is None:  # ticks alone never end
                raise TimeoutError(
                    "the engine has nothing left to run: the workflow waits for something "
                    "only the test can provide (a signal? a cancel?)"
                )
            if until is not None and at > until:
                self.clock.set(until)
                raise TimeoutError(f"not done by {until.isoformat()} (fake time)")
            self.clock.set(at)
            self._fire_due()

    def sleep(self, seconds: float) -> None:
        """Move the fake clock forward, firing every timer that falls due on the way."""
        target = self.clock.now().timestamp() + seconds
        while (at := self._next_time()) is not None and at.timestamp() <= target:
            self.clock.set(at)
            self._fire_due()
            self.run_until_idle()
        self.clock.advance(max(0.0, target - self.clock.now().timestamp()))
        self.run_until_idle()

    def commit(self, force: Iterable[WorkflowDriver] = ()) -> list[Failure]:
        """Append what the drivers must make durable (``force``: all they hold), in one
        call, then perform the effects; a refused driver is rebuilt from the store."""
        batch = self.core.pump.collect(force)
        if not batch:
            return []
        outcome = self._append(batch)
        if isinstance(outcome, AionError):
            failures = self.core.fail(batch, outcome)
        else:
            failures = self.core.settle(batch, outcome)
        for driver in batch.drivers:
            self.residency.touched(driver.workflow_id)
        for failure in failures:
            if failure.activation.expected_seq > 0:  # a refused start is the caller's to handle
                self._recover(failure.driver.workflow_id)
        return failures

    def _append(self, batch: Batch) -> list[AppendResult] | AionError:
        """The batch's results; sent again while the store cannot say whether it landed."""
        for delay in (*APPEND_RETRY_DELAYS, None):
            try:
                return self.store.append_batch(batch.requests)
            except StoreError as exc:
                if delay is None:
                    return exc
                time.sleep(delay)
            except AionError as exc:
                return exc
        raise AssertionError("unreachable")

    def crash(self, workflow_id: str | None = None) -> None:
        """Simulate the host dying: drop in-flight work, then recover from the store."""
        victims = [workflow_id] if workflow_id is not None else list(self.core.drivers)
        for victim in victims:
            self.core.discard(victim)
        for victim in (v for v in victims if not self.residency.crashed(v)):
            self._recover(victim)
        self.run_until_idle()

    def rebuild_runs(self, workflow_id: str | None = None) -> None:
        """Replay the current run(s) from history, keeping in-flight work (a runtime restart)."""
        for victim in [workflow_id] if workflow_id else list(self.core.drivers):
            if (driver := self.core.drivers.get(victim)) is not None:
                driver.rebuild_run()
        self.run_until_idle()

    def driver(self, workflow_id: str) -> WorkflowDriver | None:
        return self.core.drivers.get(workflow_id)

    # --- the Effects the drivers ask for -------------------------------------------------------

    def start_activity(
        self, driver: WorkflowDriver, command: cmd.ScheduleActivity, attempt: int, run_id: str
    ) -> None:
        self._ready.append(lambda: self._run_activity(driver, run_id, command, attempt))

    def cancel_activity(self, driver: WorkflowDriver, activity_id: int, run_id: str) -> None:
        self._cancelled.add((driver.workflow_id, run_id, activity_id))

    def arm(self, driver: WorkflowDriver, key: WakeKey, at: datetime) -> None:
        self.wakes.arm(driver, key, at)

    def disarm(self, driver: WorkflowDriver, key: WakeKey) -> None:
        self.wakes.disarm(driver, key)

    def start_child(self, driver: WorkflowDriver, command: cmd.StartChild) -> None:
        self._ready.append(lambda: self._start_child(driver, command))

    def send_signal(self, driver: WorkflowDriver, command: cmd.SendSignal, request_id: str) -> None:
        self._ready.append(lambda: self._route_signal(command, request_id))

    def closed(self, driver: WorkflowDriver, terminal: ev.Event) -> None:
        self._ready.append(lambda: self._notify_parent(driver, terminal))

    def armed_wakes(self) -> set[tuple[str, WakeKey]]:
        """The wakes the drivers asked for that have not fallen due (for tests)."""
        return self.wakes.armed()

    def blocked(self, driver: WorkflowDriver) -> bool:
        """Whether a hosted workflow waits only on durable things (it may be suspended):
        open, all it recorded is durable, no attempt running and no retry pending."""
        waits = {key[1][0] for key in self.armed_wakes() if key[0] == driver.workflow_id}
        return (
            driver.is_open
            and driver.lease is not None
            and driver.pending.is_empty
            and not waits & {"retry", "heartbeat"}
        )

    def resume(self, workflow_id: str) -> None:
        """Host a workflow again from its stored history (after a suspension or a crash)."""
        self._recover(workflow_id)

    # --- internals -----------------------------------------------------------------------------

    def _stepped(self) -> None:
        if self.step_hook is not None:
            self.step_hook()

    def _bytes(self, count: int) -> bytes:
        return self._ids.randbytes(count)

    def request_id(self) -> str:
        """A seeded request id for an arrival (a test's ids are reproducible)."""
        return self._bytes(16).hex()

    def _recover(self, workflow_id: str) -> None:
        history = self.store.read_history(workflow_id)
        if self.core.recover(history) is None and history:
            # It ended, perhaps in the very append whose acknowledgement was lost: its
            # parent may not know yet (a repeated notice is ignored).
            started = current_run(history)[0]
            terminal = current_terminal(history)
            if isinstance(started, ev.WorkflowStarted) and terminal is not None:
                self._ready.append(lambda: self.core.notify_parent_of(started, terminal))
        self.commit()

    def _run_activity(
        self, driver: WorkflowDriver, run_id: str, command: cmd.ScheduleActivity, attempt: int
    ) -> None:
        if (
            not self.core.is_current(driver)
            or (driver.workflow_id, run_id, command.activity_id) in self._cancelled
        ):
            return
        self.activity_calls[command.activity_type] += 1
        key = (driver.workflow_id, run_id, command.activity_id, attempt)
        beat = Throttle(
            interval_for(command.options.heartbeat_timeout),
            lambda details: driver.activity_heartbeat(
                *key[2:], encode(details, what="heartbeat details")
            ),
        )
        outcome = execute_activity(command, self.max_payload_bytes, beat, key)
        self.core.report_activity(driver, run_id, command.activity_id, attempt, outcome)

    def _next_time(self, *, ticks: bool = True) -> datetime | None:
        """When the next driver's wake, suspended workflow's or (``ticks``) schedule's is."""
        wake = self.wakes.next()
        tick = self.next_tick() if ticks else None
        times = [t for t in (wake.at if wake else None, self.residency.next_due(), tick) if t]
        return min(times, default=None)

    def next_tick(self) -> datetime | None:
        """When a schedule ticks next (the TestEngine has schedules, a bare host none)."""

    def fire_ticks(self) -> None:
        """Start the schedules' runs that are due (see ``next_tick``)."""

    def _fire_due(self) -> None:
        """Fire every wake that is due, then commit them together: timers of many workflows
        falling due at once cost one append_batch."""
        for wake in self.wakes.due(self.clock.now()):
            wake.driver.wake(wake.key)
        self.commit()
        self.residency.fire()
        self.fire_ticks()
        self._stepped()

    def _start_child(self, parent: WorkflowDriver, command: cmd.StartChild) -> None:
        if not self.core.is_current(parent):
            return  # the parent was rebuilt since: its successor re-issues the start
        definition = command.definition or self.core.definitions.get(command.workflow_type)
        history = self.store.read_history(command.child_workflow_id)
        decision = child_start(
            parent.workflow_id, parent.recorder.run_id, command, history, definition
        )
        if decision.refused is not None:
            parent.child_not_started(command.child_id, decision.refused)
        elif decision.terminal is not None:
            parent.child_finished(command.child_id, decision.terminal)
        elif decision.launch is not None and decision.definition is not None:
            self.core.register(decision.definition)
            child = self.core.launch(
                command.child_workflow_id,
                decision.definition,
                decision.launch,
                command.child_run_id,
            )
            for failure in self.commit(force=[child]):
                if failure.driver is child:  # taken meanwhile: decide again on what is stored
                    self._start_child(parent, command)

    def _route_signal(self, command: cmd.SendSignal, request_id: str) -> None:
        if self.core.deliver_signal(command, request_id):
            return
        target, name, payload = command.target_workflow_id, command.name, command.payload
        if not self.residency.signal(target, name, payload, request_id):
            self.store.record_lifecycle([self.core.undeliverable(command)])

    def _notify_parent(self, child: WorkflowDriver, terminal: ev.Event) -> None:
        parent = child.started.parent if child.started is not None else None
        if parent is None or not self.residency.wake(parent.workflow_id):
            self.core.notify_parent(child, terminal)  # a suspended one asks again on replay
