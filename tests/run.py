"""Run the test suite: ``python3 tests/run.py [pytest args]``.

Creates the project virtualenv on first use (see tests/bootstrap.py), then runs pytest in
it. Works on a fresh machine with only Python 3.11+ and its venv module.
"""

import runpy
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
bootstrap = runpy.run_path(str(ROOT / "tests" / "bootstrap.py"))
bootstrap["reexec_in_venv"](Path(__file__))

import pytest  # noqa: E402  (only importable inside the virtualenv)

sys.exit(pytest.main(["--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"), *sys.argv[1:]]))
