"""The ``aion`` command as a real subprocess: against an engine this process runs on local
Ray (the subprocess joins the cluster with ``--address`` and the engine's ``--namespace``),
or on a store file with no engine."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import ray

import aion_ray as aion
from tests.local_ray import start_local_ray

ROOT = Path(__file__).resolve().parents[2]
_names = itertools.count()


@dataclass(frozen=True)
class Run:
    """One finished ``aion`` process."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout as JSON (fails if anything else was printed there)."""
        assert self.code == 0, self
        return json.loads(self.stdout)

    def failed(self, code: int, *words: str) -> None:
        """It failed with ``code`` and one line on stderr naming each of ``words``."""
        assert self.code == code, self
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, self
        assert lines[0].startswith("aion: "), self
        assert "Traceback" not in self.stderr
        for word in words:
            assert word in lines[0], (word, self)


def run_aion(prefix: Sequence[str], *args: str) -> Run:
    command = [sys.executable, "-m", "aion_ray.cli", *prefix, *args]
    env = {**os.environ, "RAY_ADDRESS": ""}  # only --address names the cluster
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env, check=False
    )
    return Run(tuple(args), done.returncode, done.stdout, done.stderr)


Aion = Callable[..., Run]


def run_many(aion_: Aion, *commands: Sequence[Any]) -> list[Run]:
    """Run independent commands side by side (each pays for its own Python and Ray)."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(lambda args: aion_(*args), commands))


@dataclass
class LiveEngine:
    client: aion.Client
    address: str
    namespace: str

    def aion(self, *args: str) -> Run:
        return run_aion(("--address", self.address, "--namespace", self.namespace), *args)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveEngine]:
    """An engine on the session's local cluster (started here when no test started one)."""
    started = start_local_ray()
    namespace = f"cli{os.getpid()}-{next(_names)}"
    path = tmp_path_factory.mktemp("cli") / "history.duckdb"
    client = aion.connect(store_path=path, namespace=namespace, pool_size=(1, 4))
    address = ray.get_runtime_context().gcs_address
    yield LiveEngine(client, address, namespace)
    client.shutdown()
    if started:
        ray.shutdown()
