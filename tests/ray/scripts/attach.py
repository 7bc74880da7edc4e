"""A second driver that names no store: it joins whatever engine serves the namespace.

    python attach.py <address> <namespace> <workflow_id> <signal_name>

It prints the store path it was attached to, the workflow's status as it sees it, then
signals the workflow and prints its result.
"""

from __future__ import annotations

import sys

import aion_ray as aion

if __name__ == "__main__":
    address, namespace, workflow_id, signal_name = sys.argv[1:5]
    client = aion.connect(address=address, namespace=namespace)
    print(client.config.store_path, flush=True)
    handle = client.get(workflow_id)
    print(handle.describe().status.value, flush=True)
    handle.signal(signal_name, "from a driver that named no store")
    print(repr(handle.result(timeout=60)), flush=True)
