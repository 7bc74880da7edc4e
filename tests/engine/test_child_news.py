"""A child's news (its end, or its start refused) for a parent its host no longer holds (the
parent's suspension crossed the message) is not dropped: the host asks the control plane to
host the parent again, and the parent's replay learns how the child ended."""

from __future__ import annotations

from aion_ray.engine.async_host import AsyncHost
from aion_ray.model import events as ev
from aion_ray.model.error_info import ErrorInfo
from aion_ray.model.payload import encode
from aion_ray.storage import HistoryStore
from aion_ray.testing.clock import DEFAULT_START
from tests.engine.store_transport import StoreTransport
from tests.engine.test_async_pump import run


def test_news_for_a_parent_that_left_asks_for_it_to_be_hosted_again(store: HistoryStore) -> None:
    async def scenario() -> None:
        transport = StoreTransport(store)
        host = AsyncHost(transport, holder="host-a")
        ended = ev.WorkflowCompleted(
            workflow_id="child", run_id="r-1", seq=4, recorded_at=DEFAULT_START, result=encode(1)
        )
        host.child_finished("parent-a", 1, ended)
        host.child_not_started("parent-b", 2, ErrorInfo(type="WorkflowAlreadyStarted", message="x"))
        assert transport.woken == ["parent-a", "parent-b"]
        host.close()

    run(scenario)
