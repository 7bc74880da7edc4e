"""The registry's schedules on Ray: wiring over ``aion_ray.control.schedules.scheduler``.

``registry_scheduler`` builds the control plane's ``Scheduler`` over the store actor's stub
(its ``ScheduleStore``) and the code the store keeps (``actors.catalogue``);
``schedule_verb`` is the registry's ``schedule`` method, a client's schedule verb.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aion_ray.actors import catalogue
from aion_ray.actors.stubs import StoreStub
from aion_ray.authoring.definitions import WorkflowDefinition
from aion_ray.control.controller import Controller
from aion_ray.control.schedules.scheduler import Scheduler
from aion_ray.model.error_info import ErrorInfo


def registry_scheduler(store: StoreStub, control: Callable[[], Controller]) -> Scheduler:
    """The registry's Scheduler: schedules in the store actor, code from its catalogue."""

    async def code(workflow_type: str) -> WorkflowDefinition[Any] | ErrorInfo:
        return (await catalogue.load(store, [workflow_type]))[workflow_type]

    return Scheduler(store, control, code)


async def schedule_verb(registry: Any, verb: str, *args: Any) -> Any:
    """The registry's ``schedule`` method (a client's schedule verb), composed into
    ``RegistryActor`` as ``schedule = schedule_verb``: once the registry has started up, the
    verb runs in its ``Scheduler``."""
    await registry._attached()
    return await registry.schedules.call(verb, args)
