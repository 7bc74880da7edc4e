"""The chaos killer: a thread that SIGKILLs a random workflow actor of one engine every
``every`` seconds, and the registry and the store once each at the times given; and the
checks every history must pass afterwards."""

from __future__ import annotations

import collections
import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

import ray

import aion_ray as aion
from aion_ray.actors.stubs import HostStub
from aion_ray.model import events as ev

ANSWER = 2.0  # seconds an actor has to say its pid (one restarting is skipped)


class Killer(threading.Thread):
    """Kills for ``seconds`` from ``start()``; ``killed`` counts kills by kind."""

    def __init__(
        self, client: aion.Client, *, seconds: float, every: float, once_at: dict[str, float]
    ) -> None:
        super().__init__(daemon=True)
        self.seconds = seconds
        self.client = client
        self.namespace = client.config.namespace
        self.every = every
        self.once_at = dict(once_at)
        self.killed: collections.Counter[str] = collections.Counter()
        self.errors: list[BaseException] = []
        self._random = random.Random(7)

    def join(self, timeout: float | None = None) -> None:
        """Wait until the killing is over; raise what went wrong in the thread."""
        super().join(timeout)
        if self.errors:
            raise self.errors[0]

    def run(self) -> None:
        began = time.monotonic()
        try:
            while time.monotonic() < began + self.seconds:
                for kind, at in list(self.once_at.items()):
                    if time.monotonic() - began >= at and self._kill(kind, self._system_pid(kind)):
                        del self.once_at[kind]
                self._kill("host", self._host_pid())
                time.sleep(self.every)
        except BaseException as exc:  # reported by join
            self.errors.append(exc)

    def _kill(self, kind: str, pid: int | None) -> bool:
        if pid is None:
            return False
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return False
        self.killed[kind] += 1
        return True

    def _host_pid(self) -> int | None:
        named = ray.util.list_named_actors(all_namespaces=True)
        hosts = sorted(
            actor["name"]
            for actor in named
            if actor["namespace"] == self.namespace and actor["name"].startswith("aion-host-")
        )
        if not hosts:
            return None
        stub = HostStub(self._random.choice(hosts), self.namespace)
        return _pid(lambda: stub.pid().get(timeout=ANSWER))

    def _system_pid(self, kind: str) -> int | None:
        if kind == "registry":
            return _pid(lambda: self.client.registry.pid().get(timeout=ANSWER))
        handle = self.client.store.handle
        return _pid(lambda: ray.get(handle.__ray_call__.remote(_own_pid), timeout=ANSWER))


def _own_pid(_: Any) -> int:
    return os.getpid()


def _pid(ask: Any) -> int | None:
    try:
        pid: int = ask()
    except (aion.AionError, TimeoutError, ray.exceptions.RayError):
        return None  # restarting, or just killed: another time
    return pid


def check_history(history: list[ev.Event]) -> None:
    """Contiguous seqs from 1, one start and one terminal per run, nothing after the last
    terminal, and the run completed."""
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    starts = [i for i, e in enumerate(history) if isinstance(e, ev.WorkflowStarted)]
    ends = [i for i, e in enumerate(history) if isinstance(e, ev.TERMINAL_EVENTS)]
    assert len(starts) == len(ends) == 1, (starts, ends)
    assert ends == [len(history) - 1]
    assert isinstance(history[-1], ev.WorkflowCompleted), history[-1]


def runs_of(runs: Path, workflow_id: str) -> int:
    """How many times the steps of ``workflow_id`` ran (a line per run)."""
    counted = runs / workflow_id
    return len(counted.read_text().splitlines()) if counted.exists() else 0


def results(client: aion.Client, handles: list[Any], timeout: float) -> list[Any]:
    """Every handle's result; AssertionError describing each workflow not done in time
    (its status, where it is, its last events and its lifecycle rows)."""
    deadline = time.monotonic() + timeout
    found: list[Any] = []
    stuck: list[str] = []
    for handle in handles:
        try:
            found.append(handle.result(timeout=max(0.1, deadline - time.monotonic())))
        except TimeoutError:
            stuck.append(_described(client, handle.workflow_id))
    assert not stuck, "\n".join(stuck)
    return found


def _described(client: aion.Client, workflow_id: str) -> str:
    handle = client.get(workflow_id)
    history = handle.history()
    rows = client.sql(
        f"SELECT kind, detail FROM lifecycle WHERE workflow_id = '{workflow_id}' "
        "ORDER BY recorded_at"
    ).to_pylist()
    tail = [f"{e.seq}:{type(e).__name__}" for e in history[-8:]]
    return (
        f"{workflow_id} not done: {handle.describe().status} "
        f"at {client.registry.where(workflow_id).get()} last={tail} lifecycle={rows}"
    )
