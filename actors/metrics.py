"""RayMetrics: the engine's ``Metrics`` port on Ray's metrics pipeline.

Each actor process records through ``ray.util.metrics``; Ray's dashboard agent (installed
with ``ray[default]``, the ``aion-ray[metrics]`` extra) exports them on every node's metrics
endpoint for Prometheus and the Ray dashboard's Grafana panels, under Ray's ``ray_`` prefix
(``aion_workflows_started_total`` is scraped as ``ray_aion_workflows_started_total``). Without
the agent the calls cost little and go nowhere. The metric objects are made on first use, in
the process that records (they need its connection to Ray). README, "Metrics", lists them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ray.util import metrics as ray_metrics

from aion_ray.control.controller import Controller
from aion_ray.engine.observe import Metrics

SECONDS: list[float] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 300]
"""Histogram boundaries of the latencies (seconds)."""
BATCH_SIZES: list[float] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
SAMPLE_INTERVAL = 2.0
"""Seconds between the registry's samples of the pool and residency gauges."""

# name -> (kind, description, tag keys, histogram boundaries)
DEFINITIONS: dict[str, tuple[str, str, tuple[str, ...], list[float] | None]] = {
    "aion_workflows_started_total": (
        "counter",
        "Workflow runs started (a start, or the next run of a continue-as-new)",
        ("workflow_type",),
        None,
    ),
    "aion_workflows_ended_total": (
        "counter",
        "Workflow runs ended, by status: completed, failed, cancelled, terminated, "
        "timed_out, continued_as_new",
        ("workflow_type", "status"),
        None,
    ),
    "aion_activity_attempts_total": (
        "counter",
        "Activity attempts ended, by outcome: completed, failed",
        ("activity_type", "outcome"),
        None,
    ),
    "aion_activity_attempt_seconds": (
        "histogram",
        "Seconds from an attempt's recorded start to its end reaching its host",
        ("activity_type", "outcome"),
        SECONDS,
    ),
    "aion_replay_seconds": (
        "histogram",
        "Seconds a host took to rebuild a run from its history",
        ("workflow_type",),
        SECONDS,
    ),
    "aion_store_commit_seconds": (
        "histogram",
        "Seconds the store took to commit one batch of appends",
        (),
        SECONDS,
    ),
    "aion_store_commit_batch_size": (
        "histogram",
        "Appends (one per workflow activation) committed in one batch",
        (),
        BATCH_SIZES,
    ),
    "aion_workflows_resident": ("gauge", "Open workflows hosted by an actor", (), None),
    "aion_workflows_suspended": ("gauge", "Open workflows suspended to the store", (), None),
    "aion_pool_hosts": ("gauge", "Workflow actors in the pool", (), None),
    "aion_pool_busy_hosts": ("gauge", "Workflow actors hosting at least one workflow", (), None),
    "aion_workflow_restarts_total": (
        "counter",
        "Workflows resumed on another host after their host died",
        (),
        None,
    ),
}


class RayMetrics:
    """``aion_ray.engine.observe.Metrics`` through ``ray.util.metrics``."""

    def __init__(self) -> None:
        self._made: dict[str, Any] = {}

    def workflow_started(self, workflow_type: str) -> None:
        self._get("aion_workflows_started_total").inc(1, {"workflow_type": workflow_type})

    def workflow_ended(self, workflow_type: str, status: str) -> None:
        tags = {"workflow_type": workflow_type, "status": status}
        self._get("aion_workflows_ended_total").inc(1, tags)

    def activity_attempt(self, activity_type: str, outcome: str, seconds: float) -> None:
        tags = {"activity_type": activity_type, "outcome": outcome}
        self._get("aion_activity_attempts_total").inc(1, tags)
        self._get("aion_activity_attempt_seconds").observe(seconds, tags)

    def replay(self, workflow_type: str, seconds: float) -> None:
        self._get("aion_replay_seconds").observe(seconds, {"workflow_type": workflow_type})

    def commit(self, seconds: float, batch_size: int) -> None:
        self._get("aion_store_commit_seconds").observe(seconds)
        self._get("aion_store_commit_batch_size").observe(batch_size)

    def residency(self, resident: int, suspended: int) -> None:
        self._get("aion_workflows_resident").set(resident)
        self._get("aion_workflows_suspended").set(suspended)

    def pool(self, hosts: int, busy: int) -> None:
        self._get("aion_pool_hosts").set(hosts)
        self._get("aion_pool_busy_hosts").set(busy)

    def restarts(self, count: int) -> None:
        if count > 0:
            self._get("aion_workflow_restarts_total").inc(count)

    def _get(self, name: str) -> Any:
        made = self._made.get(name)
        if made is None:
            kind, description, tags, boundaries = DEFINITIONS[name]
            if kind == "counter":
                made = ray_metrics.Counter(name, description, tag_keys=tags)
            elif kind == "gauge":
                made = ray_metrics.Gauge(name, description, tag_keys=tags)
            else:
                made = ray_metrics.Histogram(name, description, boundaries or [], tag_keys=tags)
            self._made[name] = made
        return made


def observed(control: Controller) -> asyncio.Task[None]:
    """Give ``control`` its ``RayMetrics`` (it counts the runs it ends itself) and start
    sampling its gauges on the running loop; the task, for the caller to keep."""
    control.metrics = RayMetrics()
    return asyncio.get_running_loop().create_task(sample(control))


async def sample(control: Controller) -> None:
    """The registry's gauges, every ``SAMPLE_INTERVAL`` seconds, to ``control.metrics``: the
    pool, the residency, and the restarts its supervisor counted since the last sample. Runs
    until cancelled."""
    metrics: Metrics = control.metrics
    told = 0
    while True:
        pool, resident, suspended = control.health()
        metrics.pool(pool.hosts, pool.busy)
        metrics.residency(resident, suspended)
        restarted = control.supervisor.restarted
        metrics.restarts(restarted - told)
        told = restarted
        await asyncio.sleep(SAMPLE_INTERVAL)
