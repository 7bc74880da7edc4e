"""Scheduler: the control plane's schedules, fired on its clock (the registry's, on Ray).

The control plane is the one writer of the store's schedules. ``Scheduler`` reads them
through its ``ScheduleStore`` port once (at start-up, so after a restart or a new
``connect`` it carries on: ``plan.advance`` runs the ticks missed meanwhile that are within
the catch-up window and counts the others missed), keeps them in a ``ScheduleBook``, and
fires them from one loop that sleeps until the earliest fire time (at most ``MAX_SLEEP``),
woken early when a schedule is created, changed or unpaused, or when a run ends while
ticks are buffered.

Each step is taken as the TestEngine takes it: the runs' verbs first (terminate, cancel,
then start through the control plane's ordinary start path, with the schedule's search
attributes), the schedule stored last. A tick's workflow id is derived from the schedule id
and the tick, so a step taken again after a crash (the registry killed between the start
and the store write) starts nothing new: the run it finds is recorded, not started. Verbs
from clients (``call``) run under the loop's lock: one step at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.control.controller import Controller
from aion_ray.control.schedules import lifecycle, plan
from aion_ray.control.schedules.book import ScheduleBook
from aion_ray.control.schedules.ports import LoadCode, ScheduleStore
from aion_ray.control.schedules.requests import (
    backfill_ticks,
    checked_note,
    tick_attributes,
    updated_spec,
)
from aion_ray.control.schedules.statuses import decided
from aion_ray.engine.starts import StartSpec
from aion_ray.errors import (
    AionError,
    InvalidInputError,
    ScheduleSpecError,
    WorkflowAlreadyStartedError,
    WorkflowNotFoundError,
    WorkflowTerminalError,
)
from aion_ray.model.history import WorkflowStatus
from aion_ray.model.payload import Payload
from aion_ray.model.schedule import ScheduleSpec, checked_schedule_id
from aion_ray.model.schedule_state import ScheduleDescription, ScheduleRun, StoredSchedule

log = logging.getLogger(__name__)

MAX_SLEEP = 5.0
"""Seconds the loop sleeps at most between looks (a wake it missed, a clock that jumped)."""
ERROR_PAUSE = 1.0
"""Seconds before a failed round of firing is tried again."""
PAGE = 1000  # schedules read from the store per call at start-up
MAX_ROUNDS = 100
"""Rounds of due schedules one firing takes at most (each advances up to 10,000 ticks)."""
StepOf = Callable[[StoredSchedule, plan.StatusOf], plan.Step]
"""A schedule's step, given how to ask a run's status."""
VERBS = frozenset(
    {"create", "describe", "list", "pause", "unpause", "update", "trigger", "backfill", "delete"}
)


class Scheduler:
    """The schedules of one control plane; see the module docstring. ``control`` gives
    its Controller (made on first use); ``code`` loads a workflow type's code."""

    def __init__(
        self, store: ScheduleStore, control: Callable[[], Controller], code: LoadCode
    ) -> None:
        self.store = store
        self._control = control
        self._code = code
        self._book: ScheduleBook | None = None
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._definitions: dict[str, WorkflowDefinition[Any]] = {}
        self._stalled = False

    def start(self) -> None:
        """Start firing (again, if the loop ended); idempotent."""
        if self._loop is None or self._loop.done():
            self._loop = asyncio.get_running_loop().create_task(self._run())

    def ended(self) -> None:
        """Runs ended: a schedule holding buffered ticks may start one now."""
        if self._book is not None and self._book.waiting():
            self._wake.set()

    async def call(self, verb: str, args: Sequence[Any]) -> Any:
        """A client's schedule verb (one of ``VERBS``), under the loop's lock."""
        if verb not in VERBS:
            raise InvalidInputError(f"{verb!r} is not a schedule verb; one of {sorted(VERBS)}")
        async with self._lock:
            return await getattr(self, f"_{verb}")(*args)

    @property
    def now(self) -> datetime:
        return self._control().clock.now()

    # --- the loop --------------------------------------------------------------------------------

    async def _run(self) -> None:
        await self._control().attached.wait()
        while True:
            try:
                async with self._lock:
                    await self._fire()
            except Exception:
                log.exception("firing schedules failed; trying again")
                await asyncio.sleep(ERROR_PAUSE)
            await self._sleep()

    async def _sleep(self) -> None:
        due = (await self._loaded()).next_due()
        pause = MAX_SLEEP if due is None else (due - self.now).total_seconds()
        if pause <= 0 and self._stalled:  # a due step failed (logged): no busy loop
            pause = ERROR_PAUSE
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(0.0, min(pause, MAX_SLEEP)))
        self._wake.clear()

    async def _fire(self) -> None:
        """Step every due schedule (concurrently: each is its own), until none is; then
        start the buffered ticks whose turn has come."""
        book = await self._loaded()
        self._stalled = False
        for _ in range(MAX_ROUNDS):
            now = self.now
            due = book.due(now)
            if not due:
                break
            step: StepOf = functools.partial(_advance, now=now)
            if not await self._each(due, step):
                self._stalled = True  # every due step failed: wait before trying again
                break
        now = self.now
        await self._each(book.waiting(), lambda s, ask: plan.decide_ticks(s, [], "tick", now, ask))

    async def _each(self, schedules: Sequence[StoredSchedule], step: StepOf) -> bool:
        """Decide every schedule's step over one fetch of the statuses they ask for, take
        each step's verbs on the runs, then store the schedules in one call. A schedule
        whose verbs fail is logged and not stored (its step is taken again next round); the
        others go on. Whether any schedule was stored."""
        steps = await decided(lambda ask: [step(s, ask) for s in schedules], self._statuses)
        changed = [t for s, t in zip(schedules, steps, strict=True) if _changes(s, t)]
        outcomes = await asyncio.gather(*(self._verbs(t) for t in changed), return_exceptions=True)
        done = []
        for taken, outcome in zip(changed, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                log.error("schedule %s: %s", taken.schedule.schedule_id, outcome)
            else:
                done.append(taken.schedule)
        if done:
            await self.store.put_schedules(done)
            book = await self._loaded()
            for schedule in done:
                book.kept(schedule)
        return bool(done)

    # --- a step's verbs ---------------------------------------------------------------------------

    async def _take(self, step: plan.Step) -> StoredSchedule:
        """Perform ``step``'s verbs on the runs, then store its schedule."""
        await self._verbs(step)
        await self._store(step.schedule)
        return step.schedule

    async def _verbs(self, step: plan.Step) -> None:
        """Terminate, cancel, then start the runs ``step`` names."""
        arrivals = self._control().arrivals
        for workflow_id in step.terminates:
            with contextlib.suppress(WorkflowTerminalError, WorkflowNotFoundError):
                await arrivals.terminate(workflow_id, "terminated by its schedule (overlap)")
        for workflow_id in step.cancels:
            with contextlib.suppress(WorkflowTerminalError, WorkflowNotFoundError):
                await arrivals.cancel(workflow_id, "cancelled by its schedule (overlap)")
        if step.starts:
            await self._start(step.schedule, step.starts)

    async def _start(self, schedule: StoredSchedule, runs: Sequence[ScheduleRun]) -> None:
        definition = await self._definition(schedule.workflow_type)
        specs = [
            StartSpec(run.workflow_id, definition, schedule.input, tick_attributes(schedule, run))
            for run in runs
        ]
        for reply in await self._control().start(specs):
            if isinstance(reply, AionError) and not isinstance(reply, WorkflowAlreadyStartedError):
                raise reply  # not stored: the step is taken again, and starts what it missed

    async def _definition(self, workflow_type: str) -> WorkflowDefinition[Any]:
        known = self._definitions.get(workflow_type)
        if known is None:
            found = await self._code(workflow_type)
            if not isinstance(found, WorkflowDefinition):
                raise ScheduleSpecError(found.message)
            known = self._definitions[workflow_type] = found
        return known

    async def _statuses(self, workflow_ids: Sequence[str]) -> Mapping[str, WorkflowStatus | None]:
        infos = await self.store.workflow_infos(workflow_ids)
        return {
            wid: info.status if info is not None else None
            for wid, info in zip(workflow_ids, infos, strict=True)
        }

    async def _store(self, schedule: StoredSchedule) -> None:
        """Store ``schedule`` (the store first: a refused write changes nothing here)."""
        await self.store.put_schedule(schedule)
        (await self._loaded()).kept(schedule)

    async def _loaded(self) -> ScheduleBook:
        if self._book is None:
            schedules: list[StoredSchedule] = []
            after: str | None = None
            while page := await self.store.list_schedules(after, PAGE):
                schedules.extend(page)
                after = page[-1].schedule_id
            self._book = ScheduleBook(schedules)
        return self._book

    # --- clients' verbs (see ``VERBS``) -------------------------------------------------------

    async def _create(
        self, schedule_id: str, workflow_type: str, payload: Payload, spec: ScheduleSpec
    ) -> None:
        existing = (await self._loaded()).find(checked_schedule_id(schedule_id))
        kept = lifecycle.created_or_same(
            existing, schedule_id, workflow_type, payload, spec, self.now
        )
        self._definitions.pop(workflow_type, None)  # the client kept its newest code
        if kept is not existing:
            await self._changed(kept)

    async def _changed(self, schedule: StoredSchedule) -> None:
        await self._store(schedule)
        self._wake.set()  # its next fire time may be earlier than the loop's

    async def _describe(self, schedule_id: str) -> ScheduleDescription:
        stored = (await self._loaded()).get(schedule_id)
        now = self.now
        current = await decided(lambda ask: plan.refreshed(stored, now, ask), self._statuses)
        return lifecycle.described(current, now)

    async def _list(self) -> list[ScheduleDescription]:
        return [await self._describe(sid) for sid in (await self._loaded()).ids()]

    async def _pause(self, schedule_id: str, note: str) -> None:
        stored = (await self._loaded()).get(schedule_id)
        await self._changed(lifecycle.paused(stored, checked_note(note), self.now))

    async def _unpause(self, schedule_id: str) -> None:
        stored = (await self._loaded()).get(schedule_id)
        await self._changed(lifecycle.unpaused(stored, self.now))

    async def _update(self, schedule_id: str, changes: dict[str, Any]) -> None:
        stored = (await self._loaded()).get(schedule_id)
        spec = updated_spec(stored.spec, changes)
        await self._changed(lifecycle.updated(stored, spec, self.now))

    async def _trigger(self, schedule_id: str) -> None:
        stored, now = (await self._loaded()).get(schedule_id), self.now
        await self._take(await decided(lambda ask: plan.trigger(stored, now, ask), self._statuses))

    async def _backfill(self, schedule_id: str, start: datetime, end: datetime) -> None:
        stored, now = (await self._loaded()).get(schedule_id), self.now
        ticks = backfill_ticks(stored.spec, start, end)
        await self._take(
            await decided(
                lambda ask: plan.decide_ticks(stored, ticks, "backfill", now, ask), self._statuses
            )
        )

    async def _delete(self, schedule_id: str) -> None:
        book = await self._loaded()
        book.get(schedule_id)
        await self.store.delete_schedule(schedule_id)
        book.dropped(schedule_id)


def _changes(schedule: StoredSchedule, step: plan.Step) -> bool:
    """Whether ``step`` does anything to runs or to ``schedule``'s stored state."""
    return bool(step.starts or step.cancels or step.terminates) or step.schedule != schedule


def _advance(schedule: StoredSchedule, ask: plan.StatusOf, *, now: datetime) -> plan.Step:
    return plan.advance(schedule, now, ask)
