"""Run the test suite: ``python3 tests/run.py [pytest args]``.

Creates the project virtualenv on first use (see tests/bootstrap.py), then runs pytest in
it. Works on a fresh machine with only Python 3.11+ and its venv module.

The tests run in worker processes, one per core (pytest-xdist's ``-n auto``), unless the
arguments name single tests (``file.py::test``) or set ``-n`` themselves (``-n 0`` runs
them in this process). ``NEWSROOM_TEST_WORKERS`` overrides the number of workers.
"""

import os
import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
bootstrap = runpy.run_path(str(ROOT / "tests" / "bootstrap.py"))
bootstrap["reexec_in_venv"](Path(__file__))

import pytest  # noqa: E402  (only importable inside the virtualenv)


def parallel(args: list[str]) -> list[str]:
    """The worker options to add to ``args``: none when they choose themselves or name
    single tests (starting the workers would take longer than running them)."""
    chosen = any(a in ("-n", "--numprocesses", "no:xdist") or a.startswith("-n") for a in args)
    if chosen or any("::" in a for a in args):
        return []
    workers = os.environ.get("NEWSROOM_TEST_WORKERS", "auto")
    # loadgroup: tests marked with one xdist_group run in one worker (tests/conftest.py).
    return ["-n", workers, "--dist", "loadgroup"]


args = sys.argv[1:]
sys.exit(
    pytest.main(
        ["--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"), *parallel(args), *args]
    )
)
