"""The typed stubs of the engine's three actor kinds: ``RegistryStub`` (``aion-registry``),
``StoreStub`` (``aion-store``) and ``HostStub`` (an ``aion-host-*`` workflow actor). Each
method mirrors the actor's and returns a ``Call`` of the actor's answer (see ``stub``);
one-way messages return whether they were sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from aion_ray.actors.config import REGISTRY_NAME, STORE_NAME
from aion_ray.actors.stub import Call, Stub
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.control.ports import Resumed
from aion_ray.engine.capacity import Slot
from aion_ray.engine.starts import StartEvent, StartSpec
from aion_ray.engine.transport import AttemptKey, Closure, Placed
from aion_ray.errors import AionError
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.health import PoolHealth, RegistryHealth, StoreHealth
from aion_ray.model.payload import Payload
from aion_ray.model.schedule_state import StoredSchedule
from aion_ray.model.store import (
    AppendRequest,
    AppendResult,
    LifecycleEntry,
    SuspendedWorkflow,
)
from aion_ray.model.visibility import WorkflowFilter, WorkflowInfo
from aion_ray.runtime import commands as cmd

if TYPE_CHECKING:
    from aion_ray.actors.registry import Started


class RegistryStub(Stub):
    """The control plane's actor."""

    def __init__(self, namespace: str, handle: Any = None) -> None:
        super().__init__(REGISTRY_NAME, namespace, handle)

    def ready(self) -> Call[None]:
        return Call(self, "ready", ())

    def start(self, specs: Sequence[StartSpec]) -> Call[list[Started | AionError]]:
        return Call(self, "start", (list(specs),))

    def routes(self, known: int, timeout: float) -> Call[tuple[int, list[Any]]]:
        return Call(self, "routes", (known, timeout))

    def result(self, workflow_id: str, timeout: float | None) -> Call[ev.Event | None]:
        return Call(self, "result", (workflow_id, timeout))

    def results_stream(self, waits: Sequence[tuple[str, float | None]]) -> Any:
        """A streaming call: Ray's generator of refs, one ``(index, answer)`` per wait."""
        return self.handle.results.options(num_returns="streaming").remote(list(waits))

    def signal(self, workflow_id: str, name: str, payload: Payload, request_id: str) -> Call[None]:
        return Call(self, "signal", (workflow_id, name, payload, request_id))

    def query(self, workflow_id: str, name: str, args: Sequence[Any]) -> Call[Any]:
        return Call(self, "query", (workflow_id, name, list(args)))

    def cancel(self, workflow_id: str, reason: str) -> Call[bool]:
        return Call(self, "cancel", (workflow_id, reason), once=True)

    def terminate(self, workflow_id: str, reason: str) -> Call[None]:
        return Call(self, "terminate", (workflow_id, reason), once=True)

    def hold(self, workflow_id: str, reason: str | None) -> Call[None]:
        """Pause the workflow (with a ``reason``) or resume it (None)."""
        return Call(self, "hold", (workflow_id, reason), once=True)

    def reopen(self, workflow_id: str) -> Call[None]:
        """Reopen the workflow's ended run (see ``control.reopens``)."""
        return Call(self, "reopen", (workflow_id,), once=True)

    def start_child(
        self, parent_id: str, parent_run_id: str, command: cmd.StartChild
    ) -> Call[None]:
        """Answered once the child is started, or its parent told why not."""
        return Call(self, "start_child", (parent_id, parent_run_id, command))

    def route_signal(self, command: cmd.SendSignal, request_id: str) -> Call[None]:
        """Answered once the signal is recorded at its target, or found undeliverable."""
        return Call(self, "route_signal", (command, request_id))

    def describe(self, workflow_id: str) -> Call[WorkflowInfo]:
        return Call(self, "describe", (workflow_id,))

    def where(self, workflow_id: str) -> Call[str | None]:
        return Call(self, "where", (workflow_id,))

    def locate(self, workflow_ids: Sequence[str]) -> Call[list[str | None]]:
        return Call(self, "locate", (list(workflow_ids),))

    def list_workflows(self, flt: WorkflowFilter) -> Call[list[WorkflowInfo]]:
        return Call(self, "list_workflows", (flt,))

    def suspended(self, host: str, suspensions: Sequence[SuspendedWorkflow]) -> Call[None]:
        return Call(self, "suspended", (host, list(suspensions)))

    def stats(self) -> Call[dict[str, dict[str, int]]]:
        return Call(self, "stats", ())

    def pid(self) -> Call[int]:
        return Call(self, "pid", ())

    def health(self) -> Call[tuple[RegistryHealth, PoolHealth, int, int]]:
        return Call(self, "health", ())

    def shutdown(self) -> Call[None]:
        return Call(self, "shutdown", ())

    def schedule(self, verb: str, *args: Any, once: bool = False) -> Call[Any]:
        """A schedule verb (see ``control.schedules.scheduler``); ``once`` for one a repeat
        would do twice (a trigger)."""
        return Call(self, "schedule", (verb, *args), once=once)

    # --- one-way, from hosts -------------------------------------------------------------------

    def placed(self, host: str, placements: Sequence[Placed], withdrawn: Sequence[Placed]) -> bool:
        return self.tell("placed", host, list(placements), list(withdrawn))

    def closed(self, host: str, closures: Sequence[Closure]) -> bool:
        return self.tell("closed", host, list(closures))

    def wake(self, workflow_ids: Sequence[str]) -> bool:
        return self.tell("wake", list(workflow_ids))


class StoreStub(Stub):
    """The history store's actor."""

    def __init__(self, namespace: str, handle: Any = None) -> None:
        super().__init__(STORE_NAME, namespace, handle)

    def ping(self) -> Call[str]:
        """The path of the file the store serves."""
        return Call(self, "ping", ())

    def append_batch(self, requests: Sequence[AppendRequest]) -> Call[list[AppendResult]]:
        return Call(self, "append_batch", (list(requests),))

    def read_history(self, workflow_id: str) -> Call[list[ev.Event]]:
        return Call(self, "read_history", (workflow_id,))

    def read_histories(self, workflow_ids: Sequence[str]) -> Call[dict[str, list[ev.Event]]]:
        return Call(self, "read_histories", (list(workflow_ids),))

    def read_lifecycle(self, workflow_id: str) -> Call[list[LifecycleEntry]]:
        return Call(self, "read_lifecycle", (workflow_id,))

    def record_lifecycle(self, entries: Sequence[LifecycleEntry]) -> Call[None]:
        return Call(self, "record_lifecycle", (list(entries),))

    def workflow_info(self, workflow_id: str) -> Call[WorkflowInfo | None]:
        return Call(self, "workflow_info", (workflow_id,))

    def list_workflows(self, flt: WorkflowFilter | None = None) -> Call[list[WorkflowInfo]]:
        return Call(self, "list_workflows", (flt,))

    def suspended_workflows(self) -> Call[list[SuspendedWorkflow]]:
        return Call(self, "suspended_workflows", ())

    def save_definition(self, workflow_type: str, fingerprint: str, blob: bytes) -> Call[None]:
        return Call(self, "save_definition", (workflow_type, fingerprint, blob))

    def load_definitions(self, workflow_types: Sequence[str]) -> Call[dict[str, bytes]]:
        return Call(self, "load_definitions", (list(workflow_types),))

    def put_schedule(self, schedule: StoredSchedule) -> Call[None]:
        return Call(self, "put_schedule", (schedule,))

    def list_schedules(self, after: str | None, limit: int | None) -> Call[list[StoredSchedule]]:
        return Call(self, "list_schedules", (after, limit))

    def put_schedules(self, schedules: Sequence[StoredSchedule]) -> Call[None]:
        return Call(self, "put_schedules", (list(schedules),))

    def workflow_infos(self, workflow_ids: Sequence[str]) -> Call[list[WorkflowInfo | None]]:
        return Call(self, "workflow_infos", (list(workflow_ids),))

    def delete_schedule(self, schedule_id: str) -> Call[bool]:
        return Call(self, "delete_schedule", (schedule_id,))

    def sql(self, query: str) -> Call[Any]:
        """A pyarrow Table."""
        return Call(self, "sql", (query,), once=True)

    def health(self) -> Call[StoreHealth]:
        return Call(self, "health", ())

    def export_parquet(self, directory: str) -> Call[Any]:
        """Write every table to Parquet files under ``directory`` (on the store's node)."""
        return Call(self, "export_parquet", (directory,), once=True)

    def stats(self) -> Call[dict[str, int]]:
        return Call(self, "stats", ())

    def close(self) -> Call[None]:
        return Call(self, "close", ())


class HostStub(Stub):
    """A workflow actor (``aion-host-*``)."""

    def ready(self) -> Call[str]:
        return Call(self, "ready", ())

    def watch(self) -> Call[None]:
        """Never answers while the actor lives (its failure tells of its death)."""
        return Call(self, "watch", ())

    def host_start(
        self,
        definition: WorkflowDefinition[Any],
        workflow_id: str,
        started: StartEvent,
        run_id: str,
        slot: Slot,
    ) -> Call[None]:
        return Call(self, "host_start", (definition, workflow_id, started, run_id, slot))

    def host_resume(
        self,
        definitions: Sequence[WorkflowDefinition[Any]],
        workflow_ids: Sequence[str],
        slot: Slot,
    ) -> Call[Resumed]:
        return Call(self, "host_resume", (list(definitions), list(workflow_ids), slot))

    def start(self, specs: Sequence[StartSpec], slot: Slot) -> Call[list[str | AionError]]:
        return Call(self, "start", (list(specs), slot))

    def placements(self) -> Call[list[Placed]]:
        return Call(self, "placements", ())

    def holds(self, workflow_id: str) -> Call[bool]:
        return Call(self, "holds", (workflow_id,))

    def signal(self, workflow_id: str, name: str, payload: Payload, request_id: str) -> Call[None]:
        return Call(self, "signal", (workflow_id, name, payload, request_id))

    def cancel(self, workflow_id: str, reason: str) -> Call[bool]:
        return Call(self, "cancel", (workflow_id, reason), once=True)

    def terminate(self, workflow_id: str, reason: str) -> Call[None]:
        return Call(self, "terminate", (workflow_id, reason), once=True)

    def hold(self, workflow_id: str, reason: str | None) -> Call[None]:
        """Pause the workflow (with a ``reason``) or resume it (None)."""
        return Call(self, "hold", (workflow_id, reason), once=True)

    def result(self, workflow_id: str, timeout: float | None) -> Call[ev.Event | None]:
        return Call(self, "result", (workflow_id, timeout))

    def query(self, workflow_id: str, name: str, args: Sequence[Any]) -> Call[Any]:
        return Call(self, "query", (workflow_id, name, list(args)))

    def idle(self) -> Call[dict[str, float]]:
        return Call(self, "idle", ())

    def pid(self) -> Call[int]:
        """The actor's process id (tests and benchmarks kill hosts by it)."""
        return Call(self, "pid", ())

    def stats(self) -> Call[dict[str, int]]:
        return Call(self, "stats", ())

    # --- one-way -------------------------------------------------------------------------------

    def suspend(self, workflow_ids: Sequence[str]) -> bool:
        return self.tell("suspend", list(workflow_ids))

    def child_finished(self, workflow_id: str, child_id: int, terminal: ev.Event) -> bool:
        return self.tell("child_finished", workflow_id, child_id, terminal)

    def child_not_started(self, workflow_id: str, child_id: int, error: ErrorInfo) -> bool:
        return self.tell("child_not_started", workflow_id, child_id, error)

    def alive(self, attempt: AttemptKey) -> bool:
        return self.tell("alive", *attempt)

    def heartbeat(self, attempt: AttemptKey, details: Payload) -> bool:
        return self.tell("heartbeat", *attempt, details)
