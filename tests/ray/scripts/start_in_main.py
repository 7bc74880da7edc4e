"""A driver whose workflow is defined in ``__main__``: it starts one that sleeps, prints its
id, and ends its Ray cluster before the workflow finishes.

    python start_in_main.py <store_path> <namespace> <workflow_id> <sleep_seconds>
"""

from __future__ import annotations

import sys

import ray

import aion_ray as aion


@aion.activity(local=True)
def shout(text: str) -> str:
    return text.upper() + "!"


@aion.workflow
async def sleepy_greeting(ctx: aion.WorkflowContext, seconds: float) -> str:
    await ctx.sleep(seconds)
    return await ctx.run(shout, "good morning")


if __name__ == "__main__":
    store_path, namespace, workflow_id, seconds = sys.argv[1:5]
    client = aion.connect(store_path=store_path, namespace=namespace, pool_size=(1, 2))
    handle = client.start(sleepy_greeting, float(seconds), id=workflow_id)
    print(handle.describe().status.value, flush=True)
    ray.shutdown()
