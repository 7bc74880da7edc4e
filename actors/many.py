"""The bulk forms of the operator verbs on the client (``client.terminate_many`` and its
kin, see ``engine.bulk``): the workflows the filter matches, in a state the verb applies
to, each through its handle; how many it changed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aion_ray.actors.handle import WorkflowHandle
from aion_ray.engine.bulk import SKIPPED, Status, applicable, apply_each, bulk_filter

if TYPE_CHECKING:
    from aion_ray.actors.client import Client


def apply_many(
    client: Client, name: str, status: Status, workflow_type: str | None, reason: str | None
) -> int:
    """Apply verb ``name`` to every workflow the filter matches that it applies to."""
    verb, flt = bulk_filter(name, status, workflow_type, reason)
    ids = applicable(client.registry.list_workflows(flt).get(), verb)
    return apply_each(verb, reason, (WorkflowHandle(client, wid) for wid in ids))


async def apply_many_async(
    client: Client, name: str, status: Status, workflow_type: str | None, reason: str | None
) -> int:
    verb, flt = bulk_filter(name, status, workflow_type, reason)
    touched = 0
    for workflow_id in applicable(await client.registry.list_workflows(flt), verb):
        method = getattr(WorkflowHandle(client, workflow_id), f"{verb.method}_async")
        try:
            touched += verb.touched(await method(*verb.args(reason)))
        except SKIPPED:
            continue
    return touched
