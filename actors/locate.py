"""Finding the actor that hosts a workflow, for a handle that does not know it (one from
``client.get``): the registry says where; while the registry cannot be reached, the hosts of
the client's view of the pool are asked whether they hold it. None: no host holds it (it is
suspended, ended, or nowhere to be found now), and the registry answers for it.

Lookups that asyncio callers make together (in one turn of the client's loop) share one
registry call, so a burst of handles costs one call, and their next calls go out together.
"""

from __future__ import annotations

import asyncio

import ray

from aion_ray.actors.router import Router
from aion_ray.actors.stubs import HostStub, RegistryStub
from aion_ray.control.tasks import Background
from aion_ray.errors import AionError

ASK_TIMEOUT = 5.0
"""Seconds a lookup waits for the registry, then for the hosts."""


class Locator:
    """One client's host lookups; see the module docstring."""

    def __init__(self, registry: RegistryStub, router: Router) -> None:
        self._registry = registry
        self._router = router
        self._batch: list[tuple[str, asyncio.Future[HostStub | None]]] = []
        self._sending = Background()

    def host_of(self, workflow_id: str) -> HostStub | None:
        """The workflow's host, or None (blocking)."""
        try:
            [name] = self._registry.locate([workflow_id]).get(ASK_TIMEOUT)
        except (AionError, TimeoutError):
            return self._holder(workflow_id)
        return self._stub(name)

    async def host_of_async(self, workflow_id: str) -> HostStub | None:
        """``host_of`` for asyncio callers."""
        loop = asyncio.get_running_loop()
        found: asyncio.Future[HostStub | None] = loop.create_future()
        if not self._batch:
            loop.call_soon(lambda: self._sending.run(self._send()))
        self._batch.append((workflow_id, found))
        return await found

    async def _send(self) -> None:
        batch, self._batch = self._batch, []
        ids = [workflow_id for workflow_id, _ in batch]
        try:
            names = await asyncio.wait_for(self._registry.locate(ids), ASK_TIMEOUT)
            hosts = [self._stub(name) for name in names]
        except (AionError, TimeoutError):
            hosts = await asyncio.gather(*(asyncio.to_thread(self._holder, wid) for wid in ids))
        except Exception as exc:  # every caller must hear back
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), host in zip(batch, hosts, strict=True):
            if not future.done():
                future.set_result(host)

    def _stub(self, name: str | None) -> HostStub | None:
        if name is None:
            return None
        known = {target.name: target.stub for target in self._router.targets()}
        return known.get(name) or HostStub(name, self._registry.namespace)

    def _holder(self, workflow_id: str) -> HostStub | None:
        """The host of the client's view that holds the workflow, all asked at once."""
        asked = {t.stub.holds(workflow_id).ref(): t.stub for t in self._router.targets()}
        if not asked:
            return None
        ready, _ = ray.wait(list(asked), num_returns=len(asked), timeout=ASK_TIMEOUT)
        for ref in ready:
            try:
                if ray.get(ref):
                    return asked[ref]
            except ray.exceptions.RayError:
                continue  # that host died: it holds nothing
        return None
