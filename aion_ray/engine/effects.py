"""Effects: what a host carries out for a driver once the events behind them are durable.

The driver never acts on the world itself: it returns effects as data inside an activation,
and the host's pump performs them through the host's ``Effects`` after the append (a local
activity's start is the one exception, see ``StartActivity.eager``). Each host implements
``Effects`` in its own way: the in-process test host queues work for its loop, the Ray host
submits tasks and messages the registry. Calls must not re-enter the driver synchronously.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from aion_ray.model import events as ev
from aion_ray.model.store import WakeKey
from aion_ray.runtime import commands as cmd

if TYPE_CHECKING:
    from aion_ray.engine.driver import WorkflowDriver


@dataclass(frozen=True, slots=True)
class StartActivity:
    """Run attempt ``attempt`` of an activity of run ``run_id``."""

    command: cmd.ScheduleActivity
    attempt: int
    run_id: str

    @property
    def eager(self) -> bool:
        """A local activity may start before its events are durable: its result rides with
        the next durable boundary, and a crash before that re-runs it (at-least-once)."""
        return self.command.options.local


@dataclass(frozen=True, slots=True)
class CancelActivity:
    activity_id: int
    run_id: str


@dataclass(frozen=True, slots=True)
class Arm:
    """Wake the driver with ``key`` at ``at`` (a timer, a retry backoff, the deadline)."""

    key: WakeKey
    at: datetime


@dataclass(frozen=True, slots=True)
class Disarm:
    key: WakeKey


@dataclass(frozen=True, slots=True)
class StartChild:
    command: cmd.StartChild


@dataclass(frozen=True, slots=True)
class SendSignal:
    """Deliver a recorded SignalSent; ``request_id`` lets the target drop a repeat."""

    command: cmd.SendSignal
    request_id: str


@dataclass(frozen=True, slots=True)
class Closed:
    """The run ended with ``terminal`` (tell a parent, wake waiting clients)."""

    terminal: ev.Event


Effect = StartActivity | CancelActivity | Arm | Disarm | StartChild | SendSignal | Closed


class Effects(Protocol):
    """What a host does for its drivers."""

    def start_activity(
        self, driver: WorkflowDriver, command: cmd.ScheduleActivity, attempt: int, run_id: str
    ) -> None: ...
    def cancel_activity(self, driver: WorkflowDriver, activity_id: int, run_id: str) -> None: ...
    def arm(self, driver: WorkflowDriver, key: WakeKey, at: datetime) -> None: ...
    def disarm(self, driver: WorkflowDriver, key: WakeKey) -> None: ...
    def start_child(self, driver: WorkflowDriver, command: cmd.StartChild) -> None: ...
    def send_signal(
        self, driver: WorkflowDriver, command: cmd.SendSignal, request_id: str
    ) -> None: ...
    def closed(self, driver: WorkflowDriver, terminal: ev.Event) -> None: ...


def perform(driver: WorkflowDriver, effect: Effect, host: Effects) -> None:
    """Carry out one effect through the host's ``Effects``."""
    match effect:
        case StartActivity():
            host.start_activity(driver, effect.command, effect.attempt, effect.run_id)
        case CancelActivity():
            host.cancel_activity(driver, effect.activity_id, effect.run_id)
        case Arm():
            host.arm(driver, effect.key, effect.at)
        case Disarm():
            host.disarm(driver, effect.key)
        case StartChild():
            host.start_child(driver, effect.command)
        case SendSignal():
            host.send_signal(driver, effect.command, effect.request_id)
        case Closed():
            host.closed(driver, effect.terminal)
