"""The ``newsroom`` command line (``newsroom.cli:main``); see :mod:`newsroom.cli.main`."""

from newsroom.cli.main import cli, main

__all__ = ["cli", "main"]
