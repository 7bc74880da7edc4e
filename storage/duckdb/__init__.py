"""The DuckDB store's internals: group commit, caches, schema upkeep and queries."""
