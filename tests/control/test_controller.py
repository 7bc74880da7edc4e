"""The control plane without Ray: placement, relief, supervision, suspended workflows and
their arrivals and wakes, recovery, result waits; fake hosts and a fake clock (the way Ray
Serve tests its controller)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from aion_ray.control import recovery
from aion_ray.control.residency import RELIEF_PAUSE
from aion_ray.control.supervision import FIRST_BACKOFF
from aion_ray.engine.starts import start_event
from aion_ray.engine.transport import Closure, Placed
from aion_ray.errors import WorkflowAlreadyStartedError
from aion_ray.model import events as ev
from aion_ray.model.payload import encode
from aion_ray.model.store import SuspendedWorkflow
from tests.control.conftest import plane, waits
from tests.control.fakes import settle


def run(test: object) -> None:
    asyncio.run(test)  # type: ignore[arg-type]


def test_a_start_is_placed_on_a_warm_host_and_a_repeat_returns_the_same_run() -> None:
    async def scenario() -> None:
        p = await plane()
        assert len(p.fleet.hosts) == 1  # the warm floor
        run_id = await p.start("a")
        assert p.host_of("a").hosted == {"a"}
        assert await p.start("a") == run_id  # idempotent: the same open workflow
        assert len(p.store.read_history("a")) == 1
        assert p.control.directory.residency("a") == "resident"

    run(scenario())


def test_a_start_with_other_input_for_a_running_id_is_refused() -> None:
    async def scenario() -> None:
        p = await plane()
        await p.start("a", n=1)
        with pytest.raises(WorkflowAlreadyStartedError):
            await p.start("a", n=2)

    run(scenario())


def test_a_definition_is_kept_once_per_code_version() -> None:
    async def scenario() -> None:
        p = await plane()
        await p.start("a")
        await p.start("b")
        assert p.port.saves == 1

    run(scenario())


def test_a_start_waiting_for_a_full_pool_relieves_a_blocked_workflow_within_a_round() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 1), idle_timeout=3600.0)
        run_id = await p.start("busy")
        host = p.host_of("busy")
        second = p.placing("next")
        await p.timers.advance(RELIEF_PAUSE)  # the first round, and the next one
        assert host.suspensions == []  # busy: nothing to let go
        host.blocked["busy"] = 0.01  # its activity ended: it now waits for a signal
        await p.timers.advance(RELIEF_PAUSE)  # the next round finds it, long before 3600 s
        assert host.suspensions == [["busy"]]
        host.hosted.discard("busy")
        p.control.suspended(host.name, [SuspendedWorkflow("busy", run_id, 1, "", None)])
        await settle()
        assert second.done()
        assert p.control.directory.residency("busy") == "suspended"
        assert p.control.directory.residency("next") == "resident"

    run(scenario())


def test_relief_chooses_the_least_recently_active() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 1), workflows_per_host=3)
        for wid in ("x", "y", "z"):
            await p.start(wid)
        host = p.host_of("x")
        host.blocked.update({"x": 5.0, "y": 50.0, "z": 0.5})
        waiting = p.placing("w")
        await settle()  # the first round runs at once
        assert host.suspensions == [["y"]]
        waiting.cancel()

    run(scenario())


def test_a_dead_hosts_workflow_is_resumed_after_a_backoff_then_failed_past_the_limit() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 4), restart_limit=(1, 60.0))
        await p.start("a")
        first = p.host_of("a")
        first.dead = True
        p.control.pool.died(first.name)
        await settle()
        assert p.control.directory.member_of("a") is None  # not before the backoff
        await p.timers.advance(FIRST_BACKOFF / 2)
        assert not p.resident("a")
        await p.until(lambda: p.resident("a"))
        second = p.host_of("a")
        assert second is not first
        second.dead = True
        p.control.pool.died(second.name)  # the second death in 60 s passes the limit of 1
        await settle()
        history = p.store.read_history("a")
        assert isinstance(history[-1], ev.WorkflowFailed)
        assert history[-1].error.type == "RestartIntensityExceeded"
        assert await p.control.result("a", 1.0) == history[-1]

    run(scenario())


def test_deaths_outside_the_window_do_not_count() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 4), restart_limit=(1, 60.0))
        await p.start("a")
        for _ in range(3):
            host = p.host_of("a")
            host.dead = True
            p.control.pool.died(host.name)
            await p.timers.advance(61.0)  # each death alone in its window
            await p.until(lambda: p.resident("a"))
        assert p.control.directory.residency("a") == "resident"
        assert not isinstance(p.store.read_history("a")[-1], ev.WorkflowFailed)

    run(scenario())


def test_a_signal_for_a_suspended_workflow_is_recorded_first_then_it_is_resumed() -> None:
    async def scenario() -> None:
        p = await plane()
        run_id = await p.start("a")
        host = p.host_of("a")
        host.hosted.discard("a")
        p.control.suspended(host.name, [SuspendedWorkflow("a", run_id, 1, "", None)])
        assert p.control.directory.residency("a") == "suspended"
        await p.control.arrivals.signal("a", "go", encode(1), "req-1")
        history = p.store.read_history("a")
        assert isinstance(history[-1], ev.SignalReceived)
        assert history[-1].request_id == "req-1"
        assert p.control.directory.residency("a") == "resident"
        await p.control.arrivals.signal("a", "go", encode(1), "req-1")  # at its host now
        assert p.host_of("a").signals == [("a", "go")]

    run(scenario())


def test_a_suspended_workflow_wakes_at_its_timer_on_the_fake_clock() -> None:
    async def scenario() -> None:
        p = await plane()
        run_id = await p.start("a")
        host = p.host_of("a")
        host.hosted.discard("a")
        wake = p.clock.now() + timedelta(hours=6)
        p.control.suspended(host.name, [SuspendedWorkflow("a", run_id, 1, "", wake)])
        await p.timers.advance(6 * 3600 - 1)
        assert p.control.directory.residency("a") == "suspended"
        await p.until(lambda: p.resident("a"))

    run(scenario())


def test_a_query_makes_a_suspended_workflow_resident() -> None:
    async def scenario() -> None:
        p = await plane()
        run_id = await p.start("a")
        host = p.host_of("a")
        host.hosted.discard("a")
        p.control.suspended(host.name, [SuspendedWorkflow("a", run_id, 1, "", None)])
        assert await p.control.arrivals.query("a", "progress", []) == "progress of a"
        assert p.control.directory.residency("a") == "resident"

    run(scenario())


def test_a_childs_end_goes_to_its_hosted_parent_or_wakes_a_suspended_one() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 4), workflows_per_host=4)
        run_id = await p.start("parent")
        await p.start("child")
        parent_host = p.host_of("parent")
        ended = ev.WorkflowCompleted(
            workflow_id="child", run_id="r", seq=2, recorded_at=p.clock.now(), result=encode(1)
        )
        ref = ev.ParentRef(workflow_id="parent", run_id="r0", child_id=1)
        p.control.closed(p.host_of("child").name, [Closure("child", "r", ended, ref)])
        assert parent_host.children == [("parent", 1, ended)]
        parent_host.hosted.discard("parent")
        p.control.suspended(parent_host.name, [SuspendedWorkflow("parent", run_id, 1, "", None)])
        await p.start("child2")
        ref2 = ev.ParentRef(workflow_id="parent", run_id="r0", child_id=2)
        p.control.closed(p.host_of("child2").name, [Closure("child2", "r", ended, ref2)])
        await p.until(lambda: p.resident("parent"))

    run(scenario())


def test_recovery_leaves_suspended_workflows_suspended_and_resumes_the_rest() -> None:
    async def scenario() -> None:
        first = await plane()
        for wid in ("parked", "busy", "sleeper"):
            await first.start(wid)
        wake = first.clock.now() + timedelta(minutes=5)
        # A new control plane over the same store: as after a whole-cluster restart.
        p = await plane(over=first, parked={"parked": None, "sleeper": wake})
        await p.until(lambda: p.resident("busy"))
        residency = {w: p.control.directory.residency(w) for w in ("parked", "busy", "sleeper")}
        assert residency == {"parked": "suspended", "busy": "resident", "sleeper": "suspended"}
        await p.timers.advance(5 * 60)
        await p.until(lambda: p.resident("sleeper"))

    run(scenario())


def test_recovery_resumes_a_bounded_number_at_a_time() -> None:
    async def scenario() -> None:
        in_flight, most = 0, 0

        async def resume(workflow_id: str, workflow_type: str) -> None:
            nonlocal in_flight, most
            in_flight += 1
            most = max(most, in_flight)
            await asyncio.sleep(0)
            in_flight -= 1

        await recovery.paced([(str(i), "t") for i in range(500)], resume)
        assert most == recovery.RECOVERY_PARALLEL

    run(scenario())


def test_a_result_wait_is_answered_by_the_closure() -> None:
    async def scenario() -> None:
        p = await plane()
        await p.start("a")
        waiting = asyncio.ensure_future(p.control.result("a", None))
        await settle()
        ended = ev.WorkflowCompleted(
            workflow_id="a", run_id="r", seq=2, recorded_at=p.clock.now(), result=encode(3)
        )
        p.control.closed(p.host_of("a").name, [Closure("a", "r", ended, None)])
        assert await waiting == ended
        assert p.control.directory.entries == {}
        assert all(not m.hosted for m in p.control.pool.members.values())

    run(scenario())


def test_a_failed_spawn_is_retried_and_the_start_still_gets_a_host() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(0, 2))
        p.fleet.fail = 1
        run_id = await asyncio.wait_for(p.start("a"), 5.0)
        assert run_id
        assert p.control.directory.residency("a") == "resident"

    run(scenario())


def _placed(workflow_id: str, slot: tuple[str, int] = ("", 1)) -> Placed:
    return Placed(workflow_id, f"run-{workflow_id}", "waits", slot)


def test_a_direct_start_reported_by_its_host_is_known_and_resumed_when_the_host_dies() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 2))
        [member] = p.control.pool.members.values()
        host = p.fleet.hosts[member.name]
        await p.port.save_definition(waits)  # the client keeps the code with the store
        await host.start(waits, "d", start_event(waits, encode(1)), "run-d", ("", 1))
        p.control.placed(member.name, [_placed("d")])
        assert p.resident("d")
        assert p.control.routes.view()[0].load == 1  # clients see the host as full
        host.dead = True
        p.control.pool.died(member.name)
        await p.until(lambda: p.resident("d") and p.host_of("d") is not host)

    run(scenario())


def test_a_withdrawn_report_is_forgotten_but_a_known_workflow_is_not() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 2), workflows_per_host=2)
        run_id = await p.start("known")
        name = p.host_of("known").name
        p.control.placed(name, [_placed("known"), _placed("new", ("", 2))])
        assert p.control.directory.entries["known"].run_id == run_id  # the report is ignored
        p.control.placed(name, [], [_placed("known"), _placed("new")])
        assert p.resident("known")
        assert "new" not in p.control.directory.entries
        assert p.control.pool.members[name].hosted == {"known"}

    run(scenario())


def test_a_host_filled_by_unreported_direct_starts_is_reconciled_and_skipped() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 2))
        [member] = p.control.pool.members.values()
        host = p.fleet.hosts[member.name]
        host.direct.append(_placed("direct"))  # a client's start, its report not yet here
        await p.start("placed")  # refused there (full): learned, then placed on a new host
        assert p.host_of("placed") is not host
        assert p.host_of("direct") is host

    run(scenario())


def test_routes_wait_returns_at_once_when_stale_and_on_the_next_change() -> None:
    async def scenario() -> None:
        p = await plane()
        version, view = await p.control.routes.wait(-1, 5.0)
        assert [r.load for r in view] == [0]
        waiting = asyncio.ensure_future(p.control.routes.wait(version, 5.0))
        await settle()
        assert not waiting.done()
        await p.start("a")
        moved, view = await asyncio.wait_for(waiting, 1.0)
        assert moved > version
        assert [(r.group, r.load) for r in view] == [("", 1)]

    run(scenario())


def test_concurrent_starts_of_new_code_keep_it_with_the_store_once() -> None:
    async def scenario() -> None:
        p = await plane(pool_size=(1, 8), workflows_per_host=8)
        await asyncio.gather(*(p.start(f"w{i}") for i in range(6)))
        assert p.port.saves == 1

    run(scenario())
