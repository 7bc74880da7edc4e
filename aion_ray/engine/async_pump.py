"""The pump of an AsyncHost: one task that makes its drivers' activations durable.

While one ``append_batch`` is in flight, new work piles up and rides in the next, so the
workflows of one host share their store calls. A batch the store refuses fails only its own
drivers (one another holder took over is let go as a zombie, the others are rebuilt from
history); a store
that cannot say whether a batch landed is asked again; closed runs are reported after their
ends are durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from aion_ray.authoring.logs import workflow_fields
from aion_ray.engine.driver import WorkflowDriver
from aion_ray.engine.durability import Durability
from aion_ray.engine.host import HostCore
from aion_ray.engine.pump import APPEND_RETRY_DELAYS, Batch, Failure
from aion_ray.engine.reports import Reports
from aion_ray.engine.results import ResultWaits
from aion_ray.engine.transport import Transport
from aion_ray.errors import (
    AionError,
    EngineUnavailableError,
    FencedError,
    SequenceConflictError,
    StoreError,
)
from aion_ray.model.clock import Clock
from aion_ray.model.store import AppendRequest, AppendResult

log = logging.getLogger(__name__)


class AsyncPump:
    """The pump task of one AsyncHost, and what it settles after each append."""

    def __init__(
        self,
        core: HostCore,
        transport: Transport,
        clock: Clock,
        *,
        durability: Durability,
        reports: Reports,
        results: ResultWaits,
        touch: Callable[[str], None],
        left: Callable[[str], None],
        rebuild: Callable[[str], None],
    ) -> None:
        """``touch``: a workflow did something; ``left``: a workflow that ended left the
        host; ``rebuild``: host a workflow again from its stored history."""
        self.core = core
        self.transport = transport
        self.clock = clock
        self.durability = durability
        self.reports = reports
        self.results = results
        self._touch = touch
        self._left = left
        self._rebuild = rebuild
        self._kick = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run())

    def kick(self) -> None:
        """There is something to append or report."""
        self._kick.set()

    def close(self) -> None:
        self._task.cancel()

    async def _run(self) -> None:
        while True:
            await self._kick.wait()
            self._kick.clear()
            try:
                while batch := self.core.pump.collect(self._forced()):
                    await self._append_and_settle(batch)
                self._flush_reports()
                self._schedule_held()
            except Exception:
                # A bug must not stop the pump of every workflow on this host: log it, and
                # come back at the next arrival (or a moment later).
                log.exception("the pump of %s failed", self.core.holder)
                asyncio.get_running_loop().call_later(0.1, self.kick)

    def _forced(self) -> list[WorkflowDriver]:
        """Drivers someone waits on are appended now, whatever the local bound says."""
        drivers = self.core.drivers
        return [drivers[wid] for wid in self.durability.waited() if wid in drivers]

    async def _append_and_settle(self, batch: Batch) -> None:
        appending = asyncio.ensure_future(self._append(batch.requests))
        await asyncio.sleep(0)  # the append is sent first: the reports ride beside its commit
        self.reports.send_placements()  # ... and always before the batch's effects run
        outcome = await appending
        if isinstance(outcome, AionError):
            failures = self.core.fail(batch, outcome)
        else:
            for driver, result in zip(batch.drivers, outcome, strict=True):
                self._touch(driver.workflow_id)
                if result.ok:
                    # Waits on what is now durable are answered before the batch's effects
                    # (an activity's dispatch) take the loop: a start's reply goes first.
                    self.durability.acknowledged(driver.workflow_id, result.head)
                    self.durability.settle(driver.workflow_id, None)
            failures = self.core.settle(batch, outcome)
        for failure in failures:
            self.durability.settle(failure.driver.workflow_id, failure.error)
            self._after_refusal(failure)

    async def _append(self, requests: Sequence[AppendRequest]) -> list[AppendResult] | AionError:
        """The batch's results; sent again while the store cannot say whether it landed."""
        for delay in (*APPEND_RETRY_DELAYS, None):
            try:
                return await self.transport.append_batch(requests)
            except (StoreError, EngineUnavailableError) as exc:
                # Unknown outcome, or a store that cannot be reached for now (restarting):
                # send it again; the store recognises the appends of it that landed.
                if delay is None or not _again(exc):
                    return exc
                log.warning("an append was not taken (%s); again in %ss", exc, delay)
                await asyncio.sleep(delay)
            except AionError as exc:
                return exc
            except Exception as exc:  # not the store's answer: fail the batch, rebuild it
                return EngineUnavailableError("store transport", f"{type(exc).__name__}: {exc}")
        raise AssertionError("unreachable")

    def _after_refusal(self, failure: Failure) -> None:
        """A refused append. Fenced, or the head moved: another holder wrote since (at a
        start: the id exists). This host is a zombie for the workflow: it stops its
        attempts and timers and never takes the lease back on its own; the control plane is
        asked to check who holds it. Anything else (the store could not say whether the
        append landed) is rebuilt from the stored history."""
        workflow_id = failure.driver.workflow_id
        self.durability.forget(workflow_id)
        if isinstance(failure.error, FencedError | SequenceConflictError):
            self.results.left(workflow_id)
            if failure.activation.expected_seq > 0:
                fields = workflow_fields(workflow_id, failure.driver.recorder.run_id)
                log.warning(
                    "%s lost %s to another holder", self.core.holder, workflow_id, extra=fields
                )
                self._left(workflow_id)
                self.transport.wake([workflow_id])
            return
        self._rebuild(workflow_id)

    def _flush_reports(self) -> None:
        """Report placements and withdrawals not yet told, then the runs that ended."""
        self.reports.send_placements()
        closures = self.reports.take_closures()
        if not closures:
            return
        for closure in closures:
            driver = self.core.drivers.get(closure.workflow_id)
            if driver is not None and not driver.recorder.is_open:
                self._left(closure.workflow_id)
        self.results.closed(closures)
        # Told after the waiters just answered have run: a result is on its caller's path,
        # the one-way report to the control plane is on nobody's.
        asyncio.get_running_loop().call_soon(self.transport.closed, closures)

    def _schedule_held(self) -> None:
        """Local results held back for the local bound: run the pump again when it is up."""
        due = self.core.pump.next_due()
        if due is not None:
            delay = max(0.0, (due - self.clock.now()).total_seconds())
            asyncio.get_running_loop().call_later(delay, self.kick)


def _again(error: AionError) -> bool:
    """Whether an append that met ``error`` is sent again: the store could not say whether
    it landed, or cannot be reached for now. A store that died for good is not waited for."""
    return not isinstance(error, EngineUnavailableError) or error.state == "unreachable"
