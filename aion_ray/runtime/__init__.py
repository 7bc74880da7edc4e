"""The deterministic runtime: one run of a workflow, events in, commands out."""
