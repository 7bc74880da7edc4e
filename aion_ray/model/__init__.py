"""The data model: events, payloads, ids, clock, lease, run segments and status, visibility."""
