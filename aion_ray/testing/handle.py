"""TestWorkflowHandle: the real WorkflowHandle's synchronous methods, on the TestEngine."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.engine.outcomes import result_from_terminal, terminal_status
from aion_ray.errors import QueryError, WorkflowNotFoundError, WorkflowTerminalError
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
        driver = self._driver()
        driver.signal(name, encode(payload, what=f"signal {name!r}"))
        self._engine.commit(force=[driver])
        self._engine.run_until_idle()

    def query(self, name: str, *args: Any) -> Any:
        """Ask a query handler the workflow registered; the history does not change."""
        self._engine.run_until_idle()
        driver = self._engine.driver(self.workflow_id)
        if driver is None:
            raise QueryError(self.workflow_id, name, "the workflow is not running")
        return driver.query(name, args)

    def cancel(self, reason: str = "cancelled") -> bool:
        """Request cancellation; False if the workflow had already ended."""
        driver = self._engine.driver(self.workflow_id)
        requested = driver.cancel(reason) if driver is not None else False
        if driver is not None:
            self._engine.commit(force=[driver])
        self._engine.run_until_idle()
        return requested

    def describe(self) -> WorkflowInfo:
        return self._engine.describe(self.workflow_id)

    def history(self) -> list[ev.Event]:
        return self._engine.store.read_history(self.workflow_id)

    def _driver(self) -> Any:
        driver = self._engine.driver(self.workflow_id)
        if driver is not None:
            return driver
        history = self.history()
        if not history:
            raise WorkflowNotFoundError(self.workflow_id)
        terminal = current_terminal(history)
        raise WorkflowTerminalError(
            self.workflow_id, history[-1].run_id, terminal_status(terminal), "signal"
        )

    def _ended(self) -> bool:
        driver = self._engine.driver(self.workflow_id)
        return driver is None or not driver.recorder.is_open

    def _terminal(self) -> ev.Event:
        driver = self._engine.driver(self.workflow_id)
        terminal = driver.recorder.terminal if driver is not None else None
        if terminal is None:
            terminal = self.history()[-1]
        return terminal

    def __repr__(self) -> str:
        return f"TestWorkflowHandle({self.workflow_id!r})"
