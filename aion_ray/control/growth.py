"""When the pool should start another actor for waiting placements.

A new actor costs about a second of a core to start (README, "How it runs"); on a small node
that second is taken from the workflows already running. So while placements wait, an actor
is started only if they have waited a moment (``SPAWN_DELAY``: the members may free slots at
once) and the backlog would not drain within ``SPAWN_PAYBACK`` seconds at the rate members
have been freeing slots. A burst of short workflows then drains through the members it has
(growing during a burst cost throughput: CHANGELOG, session 6), while slots held by long
workflows (no slot freed) still bring new actors after SPAWN_DELAY.
"""

from __future__ import annotations

import collections

from aion_ray.model.clock import Clock

SPAWN_DELAY = 0.25
"""Seconds the longest-waiting placement waits before an actor is started for it."""
SPAWN_PAYBACK = 3.0
"""A backlog that drains within this many seconds at the recent release rate is left to."""
RATE_WINDOW = 1.0
"""Seconds of slot releases the rate is measured over."""


class Growth:
    """Release rate of the pool's slots, and the decision it supports."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._releases: collections.deque[float] = collections.deque()

    def released(self) -> None:
        self._releases.append(self._clock.now().timestamp())

    def rate(self) -> float:
        """Slots freed per second over the last RATE_WINDOW seconds (over less, if the
        pool has freed slots for less time than that)."""
        now = self._clock.now().timestamp()
        while self._releases and self._releases[0] < now - RATE_WINDOW:
            self._releases.popleft()
        if not self._releases:
            return 0.0
        return len(self._releases) / max(now - self._releases[0], SPAWN_DELAY)

    def spawn_pays_off(self, backlog: int, longest_wait: float) -> bool | float:
        """True to start an actor now, False not to, or the seconds after which to ask
        again (the backlog has not waited SPAWN_DELAY yet)."""
        if longest_wait < SPAWN_DELAY:
            return SPAWN_DELAY - longest_wait
        rate = self.rate()
        return rate == 0 or backlog / rate > SPAWN_PAYBACK
