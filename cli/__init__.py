"""The ``aion`` command line."""
