"""Set-up shared by ``examples/demo.py`` and ``tests/run.py``: a project virtualenv.

Runs with nothing but the standard library, on any Python 3.11+, so the two quick-start
commands work on a fresh machine. The virtualenv is ``.venv`` in the project root (or
``$NEWSROOM_VENV``). Each command installs what it needs: the demo newsroom itself, the
tests newsroom with its ``test`` extra (the servers' clients, the linters, mypy). It is
installed again only when ``pyproject.toml`` changes or a command needs more; what takes
long is said as it happens.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _installed(stamp: Path, digest: str) -> set[str]:
    """The extras installed for this pyproject.toml (None installed: an empty set, and not
    even newsroom itself when the stamp is missing or stale)."""
    try:
        data = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return set()
    if not isinstance(data, dict) or data.get("pyproject") != digest:
        return set()
    return set(data.get("extras", [])) | {""}


def _pip_install(python: Path, target: str, what: str) -> None:
    """``pip install -e target``, saying which package it is at instead of staying silent."""
    command = [
        str(python),
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "-e",
        target,
    ]
    tty = sys.stdout.isatty()
    seen = 0
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    output = []
    assert proc.stdout is not None
    for line in proc.stdout:
        output.append(line)
        if line.startswith("Collecting "):
            seen += 1
            name = line.split()[1]
            status = f"  {what}: {seen} packages so far ({name})"
            print(f"\r{status[:78]:<78}" if tty else status, end="" if tty else "\n", flush=True)
        elif line.startswith("Installing collected packages"):
            status = "  unpacking and installing them ..."
            print(f"\r{status:<78}" if tty else status, end="" if tty else "\n", flush=True)
    if tty:
        print("\r" + " " * 78 + "\r", end="", flush=True)
    if proc.wait() != 0:
        sys.stdout.write("".join(output[-40:]))
        sys.exit(f"Installing into {python.parent.parent} failed (pip's output is above).")


def venv_python(extras: str = "test", purpose: str = "the tests") -> Path:
    """Create (once) and return the project virtualenv's interpreter, with newsroom and its
    ``extras`` installed (``""``: newsroom alone)."""
    if sys.version_info < (3, 11):  # noqa: UP036 - runs on any Python, to say so clearly
        sys.exit(f"newsroom needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    env_dir = Path(os.environ.get("NEWSROOM_VENV", ROOT / ".venv"))
    bindir = "Scripts" if os.name == "nt" else "bin"
    python = env_dir / bindir / ("python.exe" if os.name == "nt" else "python")
    started = time.monotonic()
    if not python.exists():
        print(f"Creating a virtualenv in {env_dir} (once) ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(env_dir)
    stamp = env_dir / ".newsroom-installed"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    installed = _installed(stamp, digest)
    wanted = {e for e in extras.split(",") if e} | {""}
    if not wanted <= installed:
        extras = sorted((installed | wanted) - {""})
        label = f"newsroom[{','.join(extras)}] for {purpose}" if extras else "newsroom"
        print(f"Installing {label} into it (once; a minute or two) ...", flush=True)
        # The distribution was called "newsroom" before it became "newsroom-digest": an old
        # install of it would register every first-party plugin a second time.
        subprocess.run(
            [str(python), "-m", "pip", "uninstall", "--yes", "--quiet", "newsroom"],
            capture_output=True,
        )
        target = f"{ROOT}[{','.join(extras)}]" if extras else str(ROOT)
        _pip_install(python, target, "installing")
        stamp.write_text(json.dumps({"pyproject": digest, "extras": extras}))
        print(f"Ready in {time.monotonic() - started:.0f} s.", flush=True)
    return python


def reexec_in_venv(script: Path, extras: str = "test", purpose: str = "the tests") -> None:
    """Run ``script`` again with the virtualenv's Python unless that is already the case."""
    python = venv_python(extras, purpose)
    if Path(sys.prefix).resolve() != python.parent.parent.resolve():
        os.execv(str(python), [str(python), str(script), *sys.argv[1:]])
