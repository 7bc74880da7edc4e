"""The host side of a workflow, shared by the in-process test engine and the Ray actors:
the single-writer Recorder and the WorkflowDriver that turns commands into recorded effects."""
