"""When the pool grows for waiting placements: not before they wait a moment, not while the
members drain the backlog soon, always when no slot frees up."""

from __future__ import annotations

from aion_ray.control.growth import RATE_WINDOW, SPAWN_DELAY, SPAWN_PAYBACK, Growth
from aion_ray.testing.clock import FakeClock


def test_a_fresh_backlog_is_given_a_moment() -> None:
    again = Growth(FakeClock()).spawn_pays_off(backlog=10, longest_wait=0.0)
    assert again == SPAWN_DELAY


def test_a_backlog_with_no_slot_freeing_gets_an_actor() -> None:
    assert Growth(FakeClock()).spawn_pays_off(backlog=1, longest_wait=SPAWN_DELAY) is True


def test_a_backlog_that_drains_soon_gets_none_and_a_long_one_does() -> None:
    growth = Growth(FakeClock())
    for _ in range(100):  # a hundred slots freed just now: at least 100 / SPAWN_DELAY per s
        growth.released()
    rate = growth.rate()
    assert rate >= 100 / SPAWN_DELAY
    assert growth.spawn_pays_off(backlog=int(rate * SPAWN_PAYBACK / 2), longest_wait=1.0) is False
    assert growth.spawn_pays_off(backlog=int(rate * SPAWN_PAYBACK * 4), longest_wait=1.0) is True


def test_the_release_rate_forgets_releases_older_than_its_window() -> None:
    clock = FakeClock()
    growth = Growth(clock)
    for _ in range(10):
        growth.released()
    assert growth.rate() > 0
    clock.advance(RATE_WINDOW + 0.01)
    assert growth.rate() == 0.0
    assert growth.spawn_pays_off(backlog=1, longest_wait=SPAWN_DELAY) is True
