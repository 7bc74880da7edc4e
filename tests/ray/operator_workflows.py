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


@aion.activity(retry=aion.RetryPolicy(max_attempts=2, initial_interval=0.1))
def fails_until_fixed(fix: str) -> str:
    """A Ray task that fails while the file ``fix`` does not exist."""
    try:
        with open(fix) as file:
            return file.read()
    except FileNotFoundError:
        raise ConnectionError("not fixed yet") from None


@aion.workflow
async def fixable(ctx: aion.WorkflowContext, path: str) -> str:
    """Records a first step in ``path`` (a local activity), then needs the fix."""
    await ctx.run(record, path, "first")
    return await ctx.run(fails_until_fixed, path + ".fix")
