"""The system actors restart: Ray makes them again after a SIGKILL. The registry re-attaches
to the pool it left (no second pool), so resident workflows stay where they are and finish;
the store reopens its file, and the appends that met its death are sent again."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import ray

import aion_ray as aion
from aion_ray.model import events as ev
from tests.ray import workflows as wf
from tests.ray.conftest import Connect

pytestmark = pytest.mark.ray


def _hosts(namespace: str) -> set[str]:
    return {
        actor["name"]
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["namespace"] == namespace and actor["name"].startswith("aion-host-")
    }


def _registry_pid(client: aion.Client, other_than: int = -1) -> int:
    """The registry's pid, once it answers from a process other than ``other_than``."""
    deadline = time.monotonic() + 60
    while True:
        try:
            pid: int = client.registry.pid().get(timeout=5)
            if pid != other_than:
                return pid
        except (aion.EngineUnavailableError, TimeoutError):
            pass  # restarting
        assert time.monotonic() < deadline, "the registry did not come back within 60 s"
        time.sleep(0.1)


def test_a_killed_registry_comes_back_and_reattaches_to_its_pool(connect: Connect) -> None:
    client = connect(pool_size=(2, 4))
    namespace = client.config.namespace
    running = [client.start(wf.answers, n) for n in (1, 2)]
    where = {h.workflow_id: client.registry.where(h.workflow_id).get() for h in running}
    assert all(where.values())
    before = _hosts(namespace)

    os.kill(_registry_pid(client), signal.SIGKILL)
    pid = _registry_pid(client, other_than=-1)
    assert client.registry.where(running[0].workflow_id).get() == where[running[0].workflow_id]

    for n, handle in zip((1, 2), running, strict=True):
        handle.signal("add", 10)
        assert handle.result(timeout=60) == 2 * n + 10
    late = client.start(wf.answers, 5)  # starts go on
    late.signal("add", 0)
    assert late.result(timeout=60) == 10
    assert before <= _hosts(namespace)  # the old pool is the pool
    assert len(_hosts(namespace)) <= 4  # no second one beside it
    assert client.registry.pid().get() == pid


def test_messages_between_workflows_sent_while_the_registry_restarts_arrive(
    connect: Connect,
) -> None:
    """A workflow's signal to another one, and a child's start, sent while the registry is
    dead: the hosts send them again until the registry is back and takes them."""
    client = connect(pool_size=(4, 6))
    target = client.start(wf.waits_for_signal, "go")
    relay = client.start(wf.relays, target.workflow_id)
    spawner = client.start(wf.spawns_on_signal, 5)
    assert target.query("progress") == "waiting"
    assert relay.query("ready")  # resident: reached at its host
    assert spawner.query("ready")

    os.kill(_registry_pid(client), signal.SIGKILL)
    relay.signal("send", None)  # to its host directly: the registry is not needed here
    spawner.signal("spawn", None)

    assert relay.result(timeout=60) == "relayed"  # ended before its signal was taken
    assert target.result(timeout=60) == "relayed"
    assert spawner.result(timeout=60) == 10
    received = [e for e in target.history() if isinstance(e, ev.SignalReceived)]
    assert [e.name for e in received] == ["go"]  # recorded once


def _store_pid(client: aion.Client) -> int:
    pid: int = ray.get(client.store.handle.__ray_call__.remote(lambda _: os.getpid()))
    return pid


def test_a_killed_store_comes_back_and_no_workflow_is_lost(connect: Connect) -> None:
    client = connect(pool_size=(2, 4))
    waiting = [client.start(wf.answers, n) for n in (1, 2)]
    for handle in waiting:
        assert handle.query("n") in (1, 2)  # resident, its start durable
    started: list[tuple[int, Any]] = []
    failed: list[BaseException] = []

    def burst() -> None:  # appends in flight when the store dies
        try:
            for n in range(40):
                started.append((n, client.start(wf.one_local, n)))
        except BaseException as exc:
            failed.append(exc)

    pid = _store_pid(client)
    starting = threading.Thread(target=burst)
    starting.start()
    _until(lambda: len(started) >= 5, "the burst never began")
    os.kill(pid, signal.SIGKILL)  # Ray makes the store again over the same file
    starting.join(timeout=120)

    assert failed == []
    assert [handle.result(timeout=60) for _, handle in started] == [n + 1 for n in range(40)]
    for n, handle in zip((1, 2), waiting, strict=True):
        handle.signal("add", 10)
        assert handle.result(timeout=60) == 2 * n + 10
    assert _store_pid(client) != pid
    for handle in [*waiting, *(h for _, h in started)]:
        events = handle.history()
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert sum(isinstance(e, ev.WorkflowCompleted) for e in events) == 1
        assert isinstance(events[-1], ev.WorkflowCompleted)


def _until(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)
