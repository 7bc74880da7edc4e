"""The local Ray cluster the tests share: two CPUs, no dashboard (the metrics agent still
exports), ``address="local"`` so a stale cluster file of another run cannot make it hang."""

from __future__ import annotations

import ray

from aion_ray.actors.config import LOCAL_RAY_CONFIG


def start_local_ray() -> bool:
    """Start the tests' local cluster unless this process has one; whether it started it
    (the caller shuts it down then)."""
    if ray.is_initialized():
        return False
    ray.init(
        address="local",
        num_cpus=2,
        namespace="aion-tests",
        log_to_driver=False,
        include_dashboard=False,
        _system_config=LOCAL_RAY_CONFIG,  # as connect() starts it
    )
    return True
