"""WorkflowHandle: one workflow, as the client sees it (README: "Running workflows on Ray")."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aion_ray.actors.handle_checks import (
    check_name,
    checked_timeout,
    signal_args,
    time_left,
    within_host_wait,
)
from aion_ray.actors.stub import actor_gone
from aion_ray.actors.stubs import HostStub, RegistryStub, StoreStub
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.display.history import History
from aion_ray.display.infos import LAST_EVENTS, failure_html, handle_text, info_html
from aion_ray.display.picture import TimelinePicture
from aion_ray.engine.outcomes import result_from_terminal
from aion_ray.errors import (
    AionError,
    EngineUnavailableError,
    WorkflowNotFoundError,
)
from aion_ray.model import events as ev
from aion_ray.model.history import current_terminal
from aion_ray.model.payload import Payload
from aion_ray.model.visibility import WorkflowInfo

if TYPE_CHECKING:
    from aion_ray.actors.client import Client

T = TypeVar("T")


class WorkflowHandle(Generic[T]):
    """A started or found workflow; every method has an ``_async`` twin."""

    def __init__(
        self,
        client: Client,
        workflow_id: str,
        definition: WorkflowDefinition[T] | None = None,
        run_id: str | None = None,
        host: HostStub | None = None,
    ) -> None:
        self._client = client
        self.workflow_id = workflow_id
        self.run_id = run_id
        self._definition = definition
        # The actor hosting the workflow (from its start, or looked up on first use): result
        # waits, signals, queries and cancels go to it directly until it says the workflow
        # left; then to the registry, which answers for suspended workflows.
        self._host = host
        self._located = host is not None
        self._started_here = host is not None  # its start counted a slot in the router

    # --- synchronous ---------------------------------------------------------------------------

    def result(self, timeout: float | None = None) -> T:
        """Wait for the workflow to end (through continue-as-new); its decoded result, or
        WorkflowFailedError / WorkflowCancelledError / WorkflowTimedOutError; TimeoutError
        if ``timeout`` seconds pass first."""
        began, timeout = time.monotonic(), checked_timeout(timeout)
        self._locate()
        while True:
            if self._host is not None:
                try:
                    wait = time_left(timeout, began)
                    terminal = self._host.result(self.workflow_id, wait).get()
                    if terminal is not None or within_host_wait(wait):
                        return self._outcome(terminal, timeout, on_host=True)
                except AionError as exc:
                    self._left_host(exc)
            remaining = time_left(timeout, began)
            try:
                return self._outcome(
                    self._registry.result(self.workflow_id, remaining).get(), timeout
                )
            except EngineUnavailableError:
                if self._host is None:
                    raise  # the registry is down and no host is known to ask instead

    def signal(self, name: str, payload: Any = None) -> None:
        """Send signal ``name``; durable in the history when this returns."""
        args = self._signal_args(name, payload)
        self._locate()
        if self._host is not None:
            try:
                self._host.signal(*args).get()
                return
            except AionError as exc:
                self._left_host(exc)
        self._registry.signal(*args).get()

    def query(self, name: str, *args: Any) -> Any:
        """Ask a query handler the workflow registered (the history does not change)."""
        check_name(name, "query")
        self._locate()
        if self._host is not None:
            try:
                return self._host.query(self.workflow_id, name, args).get()
            except AionError as exc:
                self._left_host(exc)
        return self._registry.query(self.workflow_id, name, args).get()

    def cancel(self, reason: str = "cancelled") -> bool:
        """Request cancellation (the workflow sees CancelledError); False if it had ended."""
        check_name(reason, "cancel reason")
        return bool(self._operate("cancel", reason))

    def terminate(self, reason: str = "terminated") -> None:
        """End the run at once, with no cleanup (``result()`` raises WorkflowTerminatedError);
        WorkflowTerminalError, naming the status, if it had ended."""
        check_name(reason, "terminate reason")
        self._operate("terminate", reason)

    def pause(self, reason: str = "paused") -> None:
        """Hold the workflow durably: no new activity or child starts, due timers wait for
        ``resume``, signals are still recorded. WorkflowStateError if it is paused already,
        WorkflowTerminalError if it has ended (nothing written)."""
        check_name(reason, "pause reason")
        self._operate("hold", reason)

    def resume(self) -> None:
        """End a pause: what it held back runs now. WorkflowStateError if it is not paused."""
        self._operate("hold", None)

    def reopen(self) -> None:
        """Continue a failed, cancelled, timed-out or terminated run, as the same run; see
        README "Operator verbs". WorkflowStateError naming any other state (nothing written)."""
        self._registry.reopen(self.workflow_id).get()
        self._located = False  # hosted anew: looked up again

    def describe(self) -> WorkflowInfo:
        return self._registry.describe(self.workflow_id).get()

    def history(self) -> History:
        """Every event of the workflow (all runs): a list that renders as a table."""
        return self._history(self._store.read_history(self.workflow_id).get())

    def timeline(self, format: str = "svg") -> TimelinePicture:
        """The workflow's timeline as a picture (Jupyter shows it; ``.save(path)`` writes it):
        a lane per activity with a bar per attempt, timers, signals, children, suspensions."""
        history = self.history()
        lifecycle = self._store.read_lifecycle(self.workflow_id).get()
        now = datetime.now(UTC) if current_terminal(history) is None else None
        return TimelinePicture.of(history, lifecycle, now=now, format=format)

    # --- asyncio -------------------------------------------------------------------------------

    async def result_async(self, timeout: float | None = None) -> T:
        began, timeout = time.monotonic(), checked_timeout(timeout)
        await self._locate_async()
        while True:
            if self._host is not None:
                try:
                    wait = time_left(timeout, began)
                    terminal = await self._host.result(self.workflow_id, wait)
                    if terminal is not None or within_host_wait(wait):
                        return self._outcome(terminal, timeout, on_host=True)
                except AionError as exc:
                    self._left_host(exc)
            remaining = time_left(timeout, began)
            try:
                terminal = await self._client.results.wait(self.workflow_id, remaining)
                return self._outcome(terminal, timeout)
            except EngineUnavailableError:
                if self._host is None:
                    raise  # the registry is down and no host is known to ask instead

    async def signal_async(self, name: str, payload: Any = None) -> None:
        args = self._signal_args(name, payload)
        await self._locate_async()
        if self._host is not None:
            try:
                await self._host.signal(*args)
                return
            except AionError as exc:
                self._left_host(exc)
        await self._registry.signal(*args)

    async def query_async(self, name: str, *args: Any) -> Any:
        check_name(name, "query")
        await self._locate_async()
        if self._host is not None:
            try:
                return await self._host.query(self.workflow_id, name, args)
            except AionError as exc:
                self._left_host(exc)
        return await self._registry.query(self.workflow_id, name, args)

    async def cancel_async(self, reason: str = "cancelled") -> bool:
        check_name(reason, "cancel reason")
        return bool(await self._operate_async("cancel", reason))

    async def terminate_async(self, reason: str = "terminated") -> None:
        check_name(reason, "terminate reason")
        await self._operate_async("terminate", reason)

    async def pause_async(self, reason: str = "paused") -> None:
        check_name(reason, "pause reason")
        await self._operate_async("hold", reason)

    async def resume_async(self) -> None:
        await self._operate_async("hold", None)

    async def reopen_async(self) -> None:
        await self._registry.reopen(self.workflow_id)
        self._located = False

    async def describe_async(self) -> WorkflowInfo:
        return await self._registry.describe(self.workflow_id)

    async def history_async(self) -> History:
        return self._history(await self._store.read_history(self.workflow_id))

    # --- internals -----------------------------------------------------------------------------

    @property
    def _registry(self) -> RegistryStub:
        return self._client.registry

    @property
    def _store(self) -> StoreStub:
        return self._client.store

    def _locate(self) -> None:
        """Look the host up once, for a handle that was not given one."""
        if not self._located:
            self._located = True
            self._host = self._client.locator.host_of(self.workflow_id)

    async def _locate_async(self) -> None:
        if not self._located:
            self._located = True
            self._host = await self._client.locator.host_of_async(self.workflow_id)

    def _operate(self, verb: str, *args: Any) -> Any:
        """Call ``verb`` (a method both stubs have) at the workflow's host, or at the
        registry once the workflow is not there (suspended, moved)."""
        self._locate()
        if self._host is not None:
            try:
                return getattr(self._host, verb)(self.workflow_id, *args).get()
            except AionError as exc:
                self._left_host(exc)
        return getattr(self._registry, verb)(self.workflow_id, *args).get()

    async def _operate_async(self, verb: str, *args: Any) -> Any:
        await self._locate_async()
        if self._host is not None:
            try:
                return await getattr(self._host, verb)(self.workflow_id, *args)
            except AionError as exc:
                self._left_host(exc)
        return await getattr(self._registry, verb)(self.workflow_id, *args)

    def _left_host(self, error: AionError) -> None:
        """Forget the host if ``error`` says the workflow is no longer there; else raise."""
        if not (isinstance(error, WorkflowNotFoundError) or actor_gone(error)):
            raise error
        self._host = None

    def _outcome(
        self, terminal: ev.Event | None, timeout: float | None, on_host: bool = False
    ) -> T:
        if terminal is not None and on_host and self._started_here and self._host is not None:
            self._client.router.ended(self._host.name)  # its slot there is free again
            self._started_here = False  # told once
        if terminal is None:
            raise TimeoutError(f"workflow {self.workflow_id!r} did not end within {timeout}s")
        result_type = self._definition.result_type if self._definition is not None else Any
        value: T = result_from_terminal(terminal, result_type)
        return value

    def _signal_args(self, name: str, payload: Any) -> tuple[str, str, Payload, str]:
        return signal_args(self.workflow_id, name, payload, self._client.config.max_payload_bytes)

    def _history(self, events: list[ev.Event]) -> History:
        if not events:
            raise WorkflowNotFoundError(self.workflow_id)
        return History(events)

    def _repr_html_(self) -> str:
        """Jupyter's view: the workflow's card (status, residency, times) and latest events."""
        try:
            info, history = self.describe(), self.history()
        except AionError as exc:
            return failure_html(self.workflow_id, exc)
        return info_html(info, history[-LAST_EVENTS:])

    def __repr__(self) -> str:
        kind = self._definition.name if self._definition is not None else None
        return f"WorkflowHandle({handle_text(self.workflow_id, self.run_id, kind)})"
