"""The control plane's logic, with no I/O of its own: placement of workflows on host slots,
suspended workflows and their wakes, supervision, recovery and result waits.

The registry actor (``aion_ray.actors.registry``) is wiring over ``Controller``; the ports it
reaches the world through (hosts, the store, a fleet that starts and stops hosts, timers) are
the protocols in ``ports``, so the whole plane runs in tests against fake hosts and a fake
clock.
"""
