"""Real local Ray for the engine tests: one cluster per test session, a namespace and a
DuckDB file per engine, and the engine's actors stopped after each."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import ray

import aion_ray as aion
from aion_ray.actors.stubs import HostStub
from tests.local_ray import start_local_ray

_names = itertools.count()
pytestmark = pytest.mark.ray


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    started = start_local_ray()
    yield
    if started:
        ray.shutdown()


Connect = Callable[..., aion.Client]


@pytest.fixture
def connect(ray_cluster: None, tmp_path: Path) -> Iterator[Connect]:
    """``connect(**options)``: an engine in a namespace of its own over a fresh store file."""
    clients: list[aion.Client] = []

    def make(**options: Any) -> aion.Client:
        options.setdefault("namespace", f"t{os.getpid()}-{next(_names)}")
        options.setdefault("store_path", tmp_path / "history.duckdb")
        options.setdefault("pool_size", (1, 8))
        client = aion.connect(**options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        with contextlib.suppress(aion.AionError):  # a test may have shut it down already
            client.shutdown()


@pytest.fixture(scope="module")
def engine(ray_cluster: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[aion.Client]:
    """One engine shared by a module's tests (they use distinct workflow ids)."""
    path = tmp_path_factory.mktemp("engine") / "history.duckdb"
    client = aion.connect(
        store_path=path, namespace=f"m{os.getpid()}-{next(_names)}", pool_size=(2, 16)
    )
    yield client
    client.shutdown()


def host_pid(client: aion.Client, workflow_id: str) -> int:
    """The pid of the actor hosting ``workflow_id`` (the test started it: it may kill it)."""
    name = client.registry.where(workflow_id).get()
    assert name is not None, f"{workflow_id} is not resident"
    pid = HostStub(name, client.config.namespace).pid().get()
    return pid


def kill_host(client: aion.Client, workflow_id: str) -> int:
    pid = host_pid(client, workflow_id)
    os.kill(pid, signal.SIGKILL)
    return pid
