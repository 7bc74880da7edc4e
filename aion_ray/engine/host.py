"""HostCore: what every host does with the drivers it hosts, whatever carries its effects.

A host (the in-process test host, a Ray workflow actor) owns some drivers, wires each to its
pump, and settles the pump's batches: a refused append discards its driver, to be rebuilt
from history. Starting, recovering, routing signals to hosted drivers, telling a parent its
child ended and reporting activity outcomes are the same everywhere and live here; the host
adds only how appends are made (blocking or awaited) and how effects travel.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.engine.driver import WorkflowDriver
from aion_ray.engine.effects import Effects
from aion_ray.engine.observe import NO_METRICS, Metrics, attempt_ended, observe_appended
from aion_ray.engine.pump import DEFAULT_LOCAL_BOUND, Batch, Failure, Pump
from aion_ray.engine.recorder import EventDraft, Recorder
from aion_ray.errors import AionError, InvalidInputError
from aion_ray.model import events as ev
from aion_ray.model.clock import Clock, monotonic
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.history import current_run, current_terminal
from aion_ray.model.payload import Payload
from aion_ray.model.store import AppendResult, LifecycleEntry
from aion_ray.runtime import commands as cmd


class HostCore:
    """The drivers of one host and the pump that makes their activations durable."""

    def __init__(
        self,
        effects: Effects,
        clock: Clock,
        *,
        holder: str,
        local_bound: timedelta = DEFAULT_LOCAL_BOUND,
    ) -> None:
        self.clock = clock
        self.holder = holder
        self.pump = Pump(
            effects, clock, holder=holder, local_bound=local_bound, is_current=self.is_current
        )
        self.drivers: dict[str, WorkflowDriver] = {}
        self.definitions: dict[str, WorkflowDefinition[Any]] = {}
        self.metrics: Metrics = NO_METRICS
        """Told of the runs this host records, its replays and its attempts' ends."""

    # --- hosting -------------------------------------------------------------------------------

    def register(self, definition: WorkflowDefinition[Any]) -> WorkflowDefinition[Any]:
        if not isinstance(definition, WorkflowDefinition):
            raise InvalidInputError(
                f"start needs a function decorated with @aion.workflow, got {definition!r}"
            )
        self.definitions[definition.name] = definition
        return definition

    def launch(
        self,
        workflow_id: str,
        definition: WorkflowDefinition[Any],
        started: EventDraft,
        run_id: str,
    ) -> WorkflowDriver:
        """Host a new workflow. Its first append (at seq 0, taking the lease) is refused if
        the id exists: a start needs no read, the host reads only then."""
        driver = self._host(definition, Recorder(workflow_id, self.clock, []), [])
        driver.start(started, run_id)
        self._log_resident(driver)
        return driver

    def recover(self, history: Sequence[ev.Event]) -> WorkflowDriver | None:
        """Host a workflow again from its stored history (None if it has ended): its first
        append takes the lease at the head it read, then in-flight work is re-dispatched."""
        if not history or current_terminal(history) is not None:
            return None
        started = current_run(history)[0]
        assert isinstance(started, ev.WorkflowStarted)
        definition = self.definitions.get(started.workflow_type)
        if definition is None:
            raise InvalidInputError(
                f"cannot recover {started.workflow_id!r}: workflow type "
                f"{started.workflow_type!r} is not registered with this host"
            )
        recorder = Recorder(started.workflow_id, self.clock, history)
        driver = self._host(definition, recorder, list(history))
        self._log_resident(driver)
        began = monotonic()
        driver.resume()
        self.metrics.replay(definition.name, monotonic() - began)
        return driver

    def discard(self, workflow_id: str) -> None:
        """Stop hosting a workflow (its driver is dropped, queued work forgotten)."""
        self.drivers.pop(workflow_id, None)
        self.pump.forget(workflow_id)

    def is_current(self, driver: WorkflowDriver) -> bool:
        return self.drivers.get(driver.workflow_id) is driver

    def settle(self, batch: Batch, results: Sequence[AppendResult]) -> list[Failure]:
        """Perform the effects of the appended activations; discard the refused drivers."""
        failures = self.pump.settle(batch, results)
        for driver, activation, result in zip(
            batch.drivers, batch.activations, results, strict=True
        ):
            if result.error is None:
                observe_appended(self.metrics, driver.definition.name, activation.events)
        return self._discard_failed(failures)

    def fail(self, batch: Batch, error: AionError) -> list[Failure]:
        """The whole batch's append raised: every driver in it is discarded."""
        return self._discard_failed(self.pump.fail(batch, error))

    def _discard_failed(self, failures: list[Failure]) -> list[Failure]:
        for failure in failures:
            if self.is_current(failure.driver):
                self.discard(failure.driver.workflow_id)
        return failures

    # --- arrivals the host routes --------------------------------------------------------------

    def report_activity(
        self,
        driver: WorkflowDriver,
        run_id: str,
        activity_id: int,
        attempt: int,
        outcome: tuple[Payload | None, ErrorInfo | None],
    ) -> None:
        """An attempt this host ran has ended (dropped if the driver was replaced, or the
        run continued as new, since it started)."""
        if self.is_current(driver) and driver.recorder.run_id == run_id:
            attempt_ended(self.metrics, driver, activity_id, attempt, outcome[1], self.clock)
            driver.activity_finished(activity_id, attempt, *outcome)

    def deliver_signal(self, command: cmd.SendSignal, request_id: str) -> bool:
        """Deliver a workflow's signal to a hosted, open target; False if there is none."""
        target = self.drivers.get(command.target_workflow_id)
        if target is None or not target.recorder.is_open:
            return False
        target.signal(command.name, command.payload, request_id)
        return True

    def notify_parent(self, child: WorkflowDriver, terminal: ev.Event) -> None:
        """Tell a hosted parent that its child's run ended (a continue-as-new is not an end)."""
        self.notify_parent_of(child.started, terminal)

    def notify_parent_of(self, started: ev.WorkflowStarted | None, terminal: ev.Event) -> None:
        """``notify_parent`` for a run known only from its history (its host is gone)."""
        parent = started.parent if started is not None else None
        if parent is None or isinstance(terminal, ev.WorkflowContinuedAsNew):
            return
        target = self.drivers.get(parent.workflow_id)
        if target is not None:
            target.child_finished(parent.child_id, terminal)

    def undeliverable(self, command: cmd.SendSignal) -> LifecycleEntry:
        return undeliverable(command, self.clock.now())

    def _host(
        self, definition: WorkflowDefinition[Any], recorder: Recorder, history: list[ev.Event]
    ) -> WorkflowDriver:
        workflow_id = recorder.workflow_id
        assert workflow_id not in self.drivers, f"{workflow_id} is hosted already"
        driver = WorkflowDriver(definition, recorder, history, on_work=self.pump.mark)
        self.drivers[workflow_id] = driver
        return driver

    def _log_resident(self, driver: WorkflowDriver) -> None:
        """Log the placement with the driver's first append (the one that takes its lease)."""
        self.pump.log(
            LifecycleEntry(
                workflow_id=driver.workflow_id,
                run_id=driver.recorder.run_id,
                recorded_at=self.clock.now(),
                kind="resident",
                detail={"host": self.holder},
            )
        )


def undeliverable(command: cmd.SendSignal, at: datetime) -> LifecycleEntry:
    """The lifecycle fact for a signal no open workflow could take."""
    return LifecycleEntry(
        workflow_id=command.target_workflow_id,
        recorded_at=at,
        kind="signal_undeliverable",
        detail={"signal": command.name},
    )
