"""An engine started again over a store file of finished workflows works at once: its first
starts after the restart, of a new id and a new run of a finished one, succeed. (Opening the
file once left a result half-read on the store's write connection, failing its first
single-statement write: tests/contract/test_duckdb_persistence.py shows that one directly.)"""

from __future__ import annotations

import pytest

from tests.ray import workflows as wf
from tests.ray.conftest import Connect

pytestmark = pytest.mark.ray


def test_the_first_start_after_a_restart_over_finished_workflows_succeeds(
    connect: Connect,
) -> None:
    first = connect()
    for i in range(3):
        first.start(wf.one_local, i, id=f"done-{i}").result(timeout=60)
    namespace = first.config.namespace
    first.shutdown()
    again = connect(namespace=namespace)
    assert again.start(wf.one_local, 5, id="after-restart").result(timeout=60) == 6
    assert again.start(wf.one_local, 1, id="done-0", new_run=True).result(timeout=60) == 2
    assert {info.workflow_id for info in again.list(status="completed")} >= {
        "done-0",
        "done-1",
        "done-2",
        "after-restart",
    }
