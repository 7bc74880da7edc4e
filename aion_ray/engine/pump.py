"""The pump: drivers' activations to one batched append, then their effects. Shared by hosts.

Every host runs the same three steps; only how the append is made differs (a blocking call
in the in-process host, an awaited store call in the Ray host):

    batch = pump.collect()                    # activations that must be made durable
    results = store.append_batch(batch.requests)      # or: await ...append_batch_async(...)
    failed = pump.settle(batch, results)      # effects of the appended ones; the rest failed

``collect`` also starts local activities at once (they need not wait for a commit), and
holds back a driver whose only news is local results, for at most ``local_bound``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aion_ray.engine.activation import Activation
from aion_ray.engine.driver import WorkflowDriver
from aion_ray.engine.effects import Effects, perform
from aion_ray.errors import AionError, StoreError
from aion_ray.model.clock import Clock
from aion_ray.model.rows import EncodedEvents
from aion_ray.model.store import AppendRequest, AppendResult, LifecycleEntry

APPEND_RETRY_DELAYS = (0.05, 0.2, 1.0)
"""Seconds a host waits before sending a batch again whose outcome is unknown (StoreError):
the store recognises the appends of it that landed, so a retry never duplicates events."""

DEFAULT_LOCAL_BOUND = timedelta(milliseconds=100)
"""How long a completed local activity may stay unrecorded: what a crash may have to re-run."""


@dataclass(frozen=True)
class Batch:
    """Activations taken from their drivers, and the append requests that make them durable."""

    drivers: tuple[WorkflowDriver, ...]
    activations: tuple[Activation, ...]
    requests: tuple[AppendRequest, ...]

    def __bool__(self) -> bool:
        return bool(self.requests)


@dataclass(frozen=True)
class Failure:
    """A driver whose activation was refused: the host discards it and rebuilds from history."""

    driver: WorkflowDriver
    activation: Activation
    error: AionError


class Pump:
    """Collects activations of the drivers that have work and settles their appends."""

    def __init__(
        self,
        effects: Effects,
        clock: Clock,
        *,
        holder: str,
        local_bound: timedelta = DEFAULT_LOCAL_BOUND,
        encode_events: bool = False,
        is_current: Callable[[WorkflowDriver], bool] = lambda driver: True,
    ) -> None:
        self.effects = effects
        self._is_current = is_current  # a driver the host replaced since gets nothing done
        self.clock = clock
        self.holder = holder
        self.local_bound = local_bound
        self.encode_events = encode_events
        """Send events as rows (``EncodedEvents``): for a store in another process."""
        self._dirty: dict[str, WorkflowDriver] = {}
        self._in_flight: set[str] = set()
        self._lifecycle: dict[str, list[LifecycleEntry]] = {}

    def mark(self, driver: WorkflowDriver) -> None:
        """``driver`` has work (the ``on_work`` callback every driver of the host gets)."""
        if self._is_current(driver):
            self._dirty[driver.workflow_id] = driver

    def log(self, entry: LifecycleEntry) -> None:
        """Write ``entry`` to the lifecycle log with its workflow's next append."""
        self._lifecycle.setdefault(entry.workflow_id, []).append(entry)

    def forget(self, workflow_id: str) -> None:
        """Drop whatever is queued for a driver the host discards."""
        self._dirty.pop(workflow_id, None)
        self._lifecycle.pop(workflow_id, None)
        self._in_flight.discard(workflow_id)

    def next_due(self) -> datetime | None:
        """When ``collect`` must run next for held local results to keep their bound (an
        asyncio host sleeps until then; None: nothing is held)."""
        due = [d.pending.due_at(self.local_bound) for d in self._dirty.values()]
        return min((at for at in due if at is not None), default=None)

    def collect(self, force: Iterable[WorkflowDriver] = ()) -> Batch:
        """Take the activations that must be appended now (``force``: whatever they hold)."""
        forced = {driver.workflow_id for driver in force}
        now = self.clock.now()
        taken: list[tuple[WorkflowDriver, Activation]] = []
        for workflow_id, driver in list(self._dirty.items()):
            if workflow_id in self._in_flight:
                continue
            if driver.lease is not None:
                for effect in driver.pending.take_eager():
                    perform(driver, effect, self.effects)
            if self._must_append(driver, workflow_id in forced, now):
                taken.append((driver, driver.take_activation()))
                del self._dirty[workflow_id]
            elif driver.pending.is_empty:
                del self._dirty[workflow_id]
        return self._batch(taken)

    def _must_append(self, driver: WorkflowDriver, forced: bool, now: datetime) -> bool:
        if driver.lease is None:
            return True  # a new host's first append takes the lease, even with no events
        if forced:
            return not driver.pending.is_empty
        return driver.pending.needs_commit(now, self.local_bound)

    def _batch(self, taken: list[tuple[WorkflowDriver, Activation]]) -> Batch:
        requests = []
        for driver, activation in taken:
            self._in_flight.add(driver.workflow_id)
            events = activation.events
            requests.append(
                AppendRequest(
                    driver.workflow_id,
                    EncodedEvents.of(driver.workflow_id, events) if self.encode_events else events,
                    activation.expected_seq,
                    lease=driver.lease,
                    acquire=self.holder if driver.lease is None else None,
                    lifecycle=tuple(self._lifecycle.pop(driver.workflow_id, ())),
                )
            )
        return Batch(tuple(d for d, _ in taken), tuple(a for _, a in taken), tuple(requests))

    def settle(self, batch: Batch, results: Sequence[AppendResult]) -> list[Failure]:
        """Perform the effects of every appended activation; return the refused ones."""
        if len(results) != len(batch.requests):
            raise StoreError(f"{len(results)} results for {len(batch.requests)} appends")
        failures = []
        for driver, activation, result in zip(
            batch.drivers, batch.activations, results, strict=True
        ):
            if not self._is_current(driver):
                continue  # discarded while its append was in flight: its successor rebuilds
            self._in_flight.discard(driver.workflow_id)
            if result.error is not None:
                failures.append(Failure(driver, activation, result.error))
                continue
            if result.lease is not None:
                driver.lease = result.lease
            for effect in activation.effects:
                perform(driver, effect, self.effects)
            if not driver.pending.is_empty:
                self.mark(driver)
        return failures

    def fail(self, batch: Batch, error: AionError) -> list[Failure]:
        """The whole batch's append raised (the store is down, the call was lost)."""
        for driver in batch.drivers:
            self._in_flight.discard(driver.workflow_id)
        return [Failure(d, a, error) for d, a in zip(batch.drivers, batch.activations, strict=True)]
