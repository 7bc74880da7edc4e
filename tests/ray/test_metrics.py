"""Metrics on Ray: the engine's counters, histograms and gauges reach the node's metrics
endpoint (what Prometheus scrapes), and an activity's log records carry its attempt."""

from __future__ import annotations

import logging
import re
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
import ray

import aion_ray as aion
from tests.ray.conftest import kill_host

pytestmark = pytest.mark.ray

SCRAPE_BOUND = 60.0
"""Seconds the endpoint has to show the counts (Ray exports every 10 s by default)."""


@aion.activity
def metered_step(x: int) -> int:
    return x + 1


@aion.activity(retry=aion.RetryPolicy(max_attempts=2, initial_interval=0.1))
def metered_refusal(x: int) -> int:
    raise ValueError(f"no {x}")


@aion.workflow
async def metered(ctx: aion.WorkflowContext, x: int) -> int:
    return await ctx.run(metered_step, x)


@aion.workflow
async def metered_failure(ctx: aion.WorkflowContext, x: int) -> int:
    return await ctx.run(metered_refusal, x)


@aion.workflow
async def metered_wait(ctx: aion.WorkflowContext, x: int) -> int:
    await ctx.wait_signal("go")
    return await ctx.run(metered_step, x)


class Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@aion.activity
def logs_its_attempt() -> dict[str, Any]:
    """Logs one line, in the Ray worker, and returns the fields its record carried."""
    logger, keep = logging.getLogger("aion_ray.activity"), Keep()
    logger.addHandler(keep)
    logger.setLevel(logging.INFO)
    try:
        aion.activity_logger().info("working")
    finally:
        logger.removeHandler(keep)
    (record,) = keep.records
    fields = ("workflow_id", "run_id", "activity_id", "activity_type", "attempt")
    return {name: getattr(record, name, None) for name in fields}


@aion.workflow
async def logging_flow(ctx: aion.WorkflowContext) -> dict[str, Any]:
    return await ctx.run(logs_its_attempt)


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
LINE = re.compile(r"^(\w+)\{(.*)\} (\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
KEPT_LABELS = {"workflow_type", "status", "activity_type", "outcome"}


def scrape(port: int) -> Samples:
    """The endpoint's samples, summed over the processes that reported them."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    samples: Samples = {}
    for line in text.splitlines():
        match = LINE.match(line)
        if match is None or not match.group(1).startswith("ray_aion_"):
            continue
        name, labels, value = match.groups()
        kept = frozenset((k, v) for k, v in LABEL.findall(labels) if k in KEPT_LABELS)
        samples[name, kept] = samples.get((name, kept), 0.0) + float(value)
    return samples


def until(check: Callable[[Samples], list[str]], port: int) -> Samples:
    """Scrape until ``check`` finds nothing missing (it names what is), within the bound."""
    deadline = time.monotonic() + SCRAPE_BOUND
    missing: list[str] = ["nothing scraped yet"]
    while time.monotonic() < deadline:
        samples = scrape(port)
        missing = check(samples)
        if not missing:
            return samples
        time.sleep(0.5)
    raise AssertionError(f"not on the metrics endpoint within {SCRAPE_BOUND}s: {missing}")


def tags(**pairs: str) -> frozenset[tuple[str, str]]:
    return frozenset(pairs.items())


EXPECTED: Samples = {
    ("ray_aion_workflows_started_total", tags(workflow_type="metered")): 3,
    ("ray_aion_workflows_ended_total", tags(workflow_type="metered", status="completed")): 3,
    ("ray_aion_workflows_ended_total", tags(workflow_type="metered_failure", status="failed")): 1,
    ("ray_aion_workflows_ended_total", tags(workflow_type="metered_wait", status="completed")): 1,
    (
        "ray_aion_activity_attempts_total",
        tags(activity_type="metered_step", outcome="completed"),
    ): 4,
    (
        "ray_aion_activity_attempts_total",
        tags(activity_type="metered_refusal", outcome="failed"),
    ): 2,
    (
        "ray_aion_activity_attempt_seconds_count",
        tags(activity_type="metered_step", outcome="completed"),
    ): 4,
}
AT_LEAST: Samples = {
    # A resumed workflow may be rebuilt more than once (a resume tried again, a rebuild
    # after a refused append): at least the one replay.
    ("ray_aion_replay_seconds_count", tags(workflow_type="metered_wait")): 1,
}
PRESENT = [
    "ray_aion_store_commit_seconds_count",
    "ray_aion_store_commit_batch_size_count",
    "ray_aion_workflows_resident",
    "ray_aion_workflows_suspended",
    "ray_aion_pool_hosts",
    "ray_aion_pool_busy_hosts",
    "ray_aion_workflow_restarts_total",
]


def missing_from(samples: Samples) -> list[str]:
    wrong = [
        f"{name}{sorted(labels)}: {samples.get((name, labels))} != {want}"
        for (name, labels), want in EXPECTED.items()
        if samples.get((name, labels)) != want
    ]
    wrong += [
        f"{name}{sorted(labels)}: {samples.get((name, labels))} < {least}"
        for (name, labels), least in AT_LEAST.items()
        if samples.get((name, labels), 0) < least
    ]
    names = {name for name, _ in samples}
    return wrong + [name for name in PRESENT if name not in names]


def test_the_engine_metrics_reach_the_nodes_metrics_endpoint(engine: aion.Client) -> None:
    client = engine
    waiting = client.start(metered_wait, 10)
    done = [client.start(metered, n) for n in range(3)]
    failing = client.start(metered_failure, 1)
    assert [handle.result(timeout=60) for handle in done] == [1, 2, 3]
    with pytest.raises(aion.WorkflowFailedError):
        failing.result(timeout=60)
    kill_host(client, waiting.workflow_id)  # resumed elsewhere: a replay and a restart
    waiting.signal("go")
    assert waiting.result(timeout=60) == 11
    node = ray._private.worker.global_worker.node  # this driver's node: the test cluster
    assert node is not None
    port = node.metrics_export_port
    samples = until(missing_from, port)
    assert samples[("ray_aion_workflow_restarts_total", frozenset())] >= 1


def test_an_activitys_log_record_carries_its_attempt(engine: aion.Client) -> None:
    handle = engine.start(logging_flow, id="logged-1")
    fields = handle.result(timeout=60)
    run_id = handle.history()[0].run_id
    assert fields == {
        "workflow_id": "logged-1",
        "run_id": run_id,
        "activity_id": 1,
        "activity_type": "logs_its_attempt",
        "attempt": 1,
    }
