"""``python -m aion_ray.cli``: the ``aion`` command."""

from aion_ray.cli.main import main

main()
