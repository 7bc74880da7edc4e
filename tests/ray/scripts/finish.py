"""A driver that knows no workflow code: it connects over a store and waits for a workflow.

python finish.py <store_path> <namespace> <workflow_id> [address]
"""

from __future__ import annotations

import sys

import aion_ray as aion

if __name__ == "__main__":
    store_path, namespace, workflow_id = sys.argv[1:4]
    address = sys.argv[4] if len(sys.argv) > 4 else None
    client = aion.connect(address=address, store_path=store_path, namespace=namespace)
    handle = client.get(workflow_id)
    if len(sys.argv) > 5:
        handle.signal(sys.argv[5], "from the second driver")
    print(repr(handle.result(timeout=60)), flush=True)
