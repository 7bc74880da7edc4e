"""Workflows for the operator verbs' tests on Ray (importable by path on every worker)."""

from __future__ import annotations

import aion_ray as aion
from tests.ray.workflows import record


@aion.workflow
async def signalled_record(ctx: aion.WorkflowContext, path: str) -> str:
    """Waits for "go", then writes its value to ``path`` in a Ray task."""
    line = str(await ctx.wait_signal("go"))
    await ctx.run(record, path, line)
    return line
