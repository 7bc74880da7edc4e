"""What an AsyncHost owes the control plane, gathered between two appends: the workflows
clients placed here directly, the placements withdrawn because their start was refused,
and the runs that ended. Placements go out before the append that records their start;
closures after the append that records their end."""

from __future__ import annotations

from aion_ray.engine.transport import Closure, Placed, Transport


class Reports:
    """Batched one-way reports to the control plane, through the host's transport."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._placed: list[Placed] = []
        self._withdrawn: list[Placed] = []
        self._closures: list[Closure] = []

    def placed(self, placement: Placed) -> None:
        self._placed.append(placement)

    def withdrawn(self, placement: Placed) -> None:
        self._withdrawn.append(placement)

    def closed(self, closure: Closure) -> None:
        self._closures.append(closure)

    def send_placements(self) -> None:
        """Send the placements and withdrawals gathered so far (one message, if any)."""
        if self._placed or self._withdrawn:
            placed, self._placed = self._placed, []
            withdrawn, self._withdrawn = self._withdrawn, []
            self._transport.placed(placed, withdrawn)

    def take_closures(self) -> list[Closure]:
        """The closures gathered so far; the caller settles and sends them."""
        closures, self._closures = self._closures, []
        return closures
