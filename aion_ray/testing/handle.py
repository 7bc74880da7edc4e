"""TestWorkflowHandle: the real WorkflowHandle's synchronous methods, on the TestEngine."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.display.history import History
from aion_ray.display.infos import LAST_EVENTS, failure_html, handle_text, info_html
from aion_ray.display.picture import TimelinePicture
from aion_ray.engine.outcomes import result_from_terminal, terminal_status
from aion_ray.errors import AionError, QueryError, WorkflowNotFoundError, WorkflowTerminalError
from aion_ray.model import events as ev
from aion_ray.model.history import current_terminal
from aion_ray.model.payload import encode
from aion_ray.model.visibility import WorkflowInfo

if TYPE_CHECKING:
    from aion_ray.testing.engine import TestEngine

T = TypeVar("T")


class TestWorkflowHandle(Generic[T]):
    """A workflow in the TestEngine; every call first runs the work that is ready."""

    __test__ = False

    def __init__(
        self, engine: TestEngine, workflow_id: str, definition: WorkflowDefinition[T] | None
    ) -> None:
        self._engine = engine
        self.workflow_id = workflow_id
        self._definition = definition

    def result(self, timeout: float | None = None) -> T:
        """Run until the workflow ends (through continue-as-new), skipping time; return its
        decoded result or raise WorkflowFailedError / WorkflowCancelledError / ...
        ``timeout`` bounds the fake time waited, in seconds."""
        engine = self._engine
        until = engine.clock.now() + timedelta(seconds=timeout) if timeout is not None else None
        engine.run_until(self._ended, until=until)
        terminal = self._terminal()
        result_type = self._definition.result_type if self._definition else Any
        value: T = result_from_terminal(terminal, result_type)
        return value

    def signal(self, name: str, payload: Any = None) -> None:
        """Record the signal durably, then deliver it."""
        encoded = encode(payload, what=f"signal {name!r}")
        request_id = self._engine.request_id()
        if self._engine.residency.signal(self.workflow_id, name, encoded, request_id):
            self._engine.run_until_idle()  # suspended: recorded first, then made resident
            return
        driver = self._driver("signal")
        driver.signal(name, encoded)
        self._engine.commit(force=[driver])
        self._engine.run_until_idle()

    def query(self, name: str, *args: Any) -> Any:
        """Ask a query handler the workflow registered; the history does not change."""
        self._engine.run_until_idle()
        self._engine.residency.wake(self.workflow_id)  # a suspended workflow is made resident
        self._engine.run_until_idle()
        driver = self._engine.driver(self.workflow_id)
        if driver is None:
            raise QueryError(self.workflow_id, name, "the workflow is not running")
        self._engine.residency.touched(self.workflow_id)
        return driver.query(name, args)

    def cancel(self, reason: str = "cancelled") -> bool:
        """Request cancellation; False if the workflow had already ended."""
        parked = self._engine.residency.cancel(self.workflow_id, reason)
        if parked is not None:
            self._engine.run_until_idle()
            return parked
        driver = self._engine.driver(self.workflow_id)
        requested = driver.cancel(reason) if driver is not None else False
        if driver is not None:
            self._engine.commit(force=[driver])
        self._engine.run_until_idle()
        return requested

    def terminate(self, reason: str = "terminated") -> None:
        """End the run at once, with no cleanup (``result()`` raises WorkflowTerminatedError);
        WorkflowTerminalError naming the status if it had already ended."""
        if self._engine.residency.terminate(self.workflow_id, reason):
            self._engine.run_until_idle()
            return
        driver = self._driver("terminate")
        driver.terminate(reason)
        self._engine.commit(force=[driver])
        self._engine.run_until_idle()

    def pause(self, reason: str = "paused") -> None:
        """Hold the workflow durably: no new activity or child starts, due timers wait for
        ``resume``, signals are still recorded. WorkflowStateError if it is paused already,
        WorkflowTerminalError if it has ended (nothing written)."""
        self._hold(reason)

    def resume(self) -> None:
        """End a pause: what it held back runs now. WorkflowStateError if it is not paused."""
        self._hold(None)

    def reopen(self) -> None:
        """Continue a failed, cancelled, timed-out or terminated run (the same run): recorded
        results replay, the activities whose failure ended it run again at their next attempt
        with a fresh retry budget, and ``result()`` waits for the reopened run's outcome.
        WorkflowStateError naming the status for a run in any other state, and
        WorkflowNotFoundError for an unknown id (nothing written)."""
        self._engine.residency.reopen(self.workflow_id)
        self._engine.run_until_idle()

    def _hold(self, reason: str | None) -> None:
        if self._engine.residency.hold(self.workflow_id, reason):
            self._engine.run_until_idle()
            return
        driver = self._driver("pause" if reason is not None else "resume")
        if reason is None:
            driver.hold.resume()
        else:
            driver.hold.pause(reason)
        self._engine.commit(force=[driver])
        self._engine.run_until_idle()

    def describe(self) -> WorkflowInfo:
        return self._engine.describe(self.workflow_id)

    def history(self) -> History:
        """Every event of the workflow, with its lifecycle log: a list that renders as a table."""
        store = self._engine.store
        return History(store.read_history(self.workflow_id), store.read_lifecycle(self.workflow_id))

    def timeline(self, format: str = "svg") -> TimelinePicture:
        """The workflow's timeline as a picture; open bars end at the engine's clock."""
        history = self.history()
        now = self._engine.clock.now() if current_terminal(history) is None else None
        return TimelinePicture.of(history, history.lifecycle, now=now, format=format)

    def _driver(self, operation: str) -> Any:
        driver = self._engine.driver(self.workflow_id)
        if driver is not None:
            return driver
        history = self.history()
        if not history:
            raise WorkflowNotFoundError(self.workflow_id)
        terminal = current_terminal(history)
        raise WorkflowTerminalError(
            self.workflow_id, history[-1].run_id, terminal_status(terminal), operation
        )

    def _ended(self) -> bool:
        if self.workflow_id in self._engine.residency.suspended:
            return False
        driver = self._engine.driver(self.workflow_id)
        return driver is None or not driver.recorder.is_open

    def _terminal(self) -> ev.Event:
        driver = self._engine.driver(self.workflow_id)
        terminal = driver.recorder.terminal if driver is not None else None
        if terminal is None:
            terminal = self.history()[-1]
        return terminal

    def _repr_html_(self) -> str:
        try:
            info, history = self.describe(), self.history()
        except AionError as exc:
            return failure_html(self.workflow_id, exc)
        return info_html(info, history[-LAST_EVENTS:])

    def __repr__(self) -> str:
        kind = self._definition.name if self._definition is not None else None
        return f"TestWorkflowHandle({handle_text(self.workflow_id, None, kind)})"
