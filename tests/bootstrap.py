"""Set-up shared by ``examples/demo.py`` and ``tests/run.py``: a project virtualenv.

Runs with nothing but the standard library, on any Python 3.11+, so the two quick-start
commands work on a fresh machine. The virtualenv is ``.venv`` in the project root (or
``$NEWSROOM_VENV``); it is reinstalled only when ``pyproject.toml`` changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def venv_python() -> Path:
    """Create (once) and return the project virtualenv's interpreter, with newsroom installed."""
    if sys.version_info < (3, 11):  # noqa: UP036 - runs on any Python, to say so clearly
        sys.exit(f"newsroom needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    env_dir = Path(os.environ.get("NEWSROOM_VENV", ROOT / ".venv"))
    bindir = "Scripts" if os.name == "nt" else "bin"
    python = env_dir / bindir / ("python.exe" if os.name == "nt" else "python")
    if not python.exists():
        print(f"Creating a virtualenv in {env_dir} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(env_dir)
    stamp = env_dir / ".newsroom-installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text().strip() != digest:
        print("Installing newsroom and its test dependencies (first run only) ...", flush=True)
        # The distribution was called "newsroom" before it became "newsroom-digest": an old
        # install of it would register every first-party plugin a second time.
        subprocess.run(
            [str(python), "-m", "pip", "uninstall", "--yes", "--quiet", "newsroom"],
            capture_output=True,
        )
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-e",
                f"{ROOT}[test]",
            ],
            check=True,
        )
        stamp.write_text(digest)
    return python


def reexec_in_venv(script: Path) -> None:
    """Run ``script`` again with the virtualenv's Python unless that is already the case."""
    python = venv_python()
    if Path(sys.prefix).resolve() != python.parent.parent.resolve():
        os.execv(str(python), [str(python), str(script), *sys.argv[1:]])
