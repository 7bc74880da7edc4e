"""The pump of an AsyncHost: one task that makes its drivers' activations durable.

While one ``append_batch`` is in flight, new work piles up and rides in the next, so the
workflows of one host share their store calls. A batch the store refuses fails only its own
drivers (a fenced one is let go as a zombie, the others are rebuilt from history); a store
that cannot say whether a batch landed is asked again; closed runs are reported after their
ends are durable.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from aion_ray.engine.driver import WorkflowDriver
from aion_ray.engine.pump import APPEND_RETRY_DELAYS, Batch, Failure
from aion_ray.engine.results import ResultWaits
from aion_ray.engine.transport import Closure, Placed, Transport
from aion_ray.errors import AionError, EngineUnavailableError, FencedError, StoreError
from aion_ray.model import events as ev
from aion_ray.model.clock import Clock
from aion_ray.model.store import AppendRequest, AppendResult

if TYPE_CHECKING:
    from aion_ray.engine.host import HostCore

log = logging.getLogger(__name__)


class AsyncPump:
    """Mixed into AsyncHost: the state it reads is the host's own."""

    core: HostCore
    transport: Transport
    clock: Clock
    results: ResultWaits
    _kick: asyncio.Event
    _durable: dict[str, int]
    _waiters: dict[str, list[tuple[int, asyncio.Future[None]]]]
    _active: dict[str, float]
    _closures: list[Closure]
    _placed: list[Placed]
    _withdrawn: list[Placed]

    _touch: Callable[[str], None]  # Residency's
    resume: Callable[[Sequence[str]], Coroutine[Any, Any, dict[str, str | ev.Event | None]]]

    async def _run_pump(self) -> None:
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
                asyncio.get_running_loop().call_later(0.1, self._kick.set)

    def _forced(self) -> list[WorkflowDriver]:
        """Drivers someone waits on are appended now, whatever the local bound says."""
        return [self.core.drivers[wid] for wid in self._waiters if wid in self.core.drivers]

    async def _append_and_settle(self, batch: Batch) -> None:
        appending = asyncio.ensure_future(self._append(batch.requests))
        await asyncio.sleep(0)  # the append is sent first: the reports ride beside its commit
        self._report_placed()  # ... and always before the batch's effects run
        outcome = await appending
        if isinstance(outcome, AionError):
            failures = self.core.fail(batch, outcome)
        else:
            for driver, result in zip(batch.drivers, outcome, strict=True):
                self._touch(driver.workflow_id)
                if result.ok:
                    self._durable[driver.workflow_id] = result.head
            failures = self.core.settle(batch, outcome)
        failed = {failure.driver.workflow_id: failure for failure in failures}
        for driver in batch.drivers:
            self._release(driver.workflow_id, failed.get(driver.workflow_id))
        for failure in failures:
            self._after_refusal(failure)

    async def _append(self, requests: Sequence[AppendRequest]) -> list[AppendResult] | AionError:
        """The batch's results; sent again while the store cannot say whether it landed."""
        for delay in (*APPEND_RETRY_DELAYS, None):
            try:
                return await self.transport.append_batch(requests)
            except StoreError as exc:
                if delay is None:
                    return exc
                await asyncio.sleep(delay)
            except AionError as exc:
                return exc
            except Exception as exc:  # not the store's answer: fail the batch, rebuild it
                return EngineUnavailableError("store transport", f"{type(exc).__name__}: {exc}")
        raise AssertionError("unreachable")

    def _release(self, workflow_id: str, failure: Failure | None) -> None:
        """Wake the waiters whose records are now durable, or tell them the append failed."""
        head = self._durable.get(workflow_id, -1)
        waiting = self._waiters.pop(workflow_id, [])
        still = []
        for target, waiter in waiting:
            if waiter.done():
                continue
            if failure is not None:
                waiter.set_exception(failure.error)
            elif head >= target:
                waiter.set_result(None)
            else:
                still.append((target, waiter))
        if still:
            self._waiters[workflow_id] = still

    def _after_refusal(self, failure: Failure) -> None:
        """A refused append: fenced means another host took the workflow over (this one is a
        zombie and lets it go); anything else is rebuilt from the stored history."""
        workflow_id = failure.driver.workflow_id
        self._durable.pop(workflow_id, None)
        if failure.activation.expected_seq == 0 or isinstance(failure.error, FencedError):
            self.results.left(workflow_id)
            return
        asyncio.get_running_loop().create_task(self.resume([workflow_id]))

    def _report_placed(self) -> None:
        """Tell the control plane which workflows clients started here, before their starts
        are appended (so their effects never run on a host it does not know holds them), and
        which of those starts were refused."""
        if self._placed or self._withdrawn:
            placed, self._placed = self._placed, []
            withdrawn, self._withdrawn = self._withdrawn, []
            self.transport.placed(placed, withdrawn)

    def _flush_reports(self) -> None:
        """Report placements and withdrawals not yet told, then the runs that ended."""
        self._report_placed()
        if not self._closures:
            return
        closures, self._closures = self._closures, []
        for closure in closures:
            driver = self.core.drivers.get(closure.workflow_id)
            if driver is not None and not driver.recorder.is_open:
                self.core.discard(closure.workflow_id)
                self._durable.pop(closure.workflow_id, None)
                self._active.pop(closure.workflow_id, None)
        self.results.closed(closures)
        self.transport.closed(closures)

    def _schedule_held(self) -> None:
        """Local results held back for the local bound: run the pump again when it is up."""
        due = self.core.pump.next_due()
        if due is not None:
            delay = max(0.0, (due - self.clock.now()).total_seconds())
            asyncio.get_running_loop().call_later(delay, self._kick.set)
