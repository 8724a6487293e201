"""`newsroom plugin new`: each kind of package it writes installs, registers its component
and passes its own tests as it is, with newsroom's pytest fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest


def installed(package: Path, site: Path) -> dict[str, str]:
    """The environment of a process where ``package`` is installed in editable mode: its
    metadata and entry points in ``site``, its module from its folder."""
    project = tomllib.loads((package / "pyproject.toml").read_text("utf-8"))["project"]
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    points = project["entry-points"]["newsroom.plugins"]
    (info / "entry_points.txt").write_text(
        "[newsroom.plugins]\n" + "".join(f"{k} = {v}\n" for k, v in points.items())
    )
    env = {k: v for k, v in os.environ.items() if k != "NEWSROOM_LOAD_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(package)])
    return env


def newsroom(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "newsroom", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("flag", "kind", "tests"),
    [("--source", "sources", 6), ("--filter", "filters", 3), ("--renderer", "renderers", 3)],
)
def test_the_scaffold_installs_and_passes_its_tests(
    tmp_path: Path, flag: str, kind: str, tests: int
) -> None:
    said = newsroom("plugin", "new", "press-kit", flag, cwd=tmp_path)
    package = tmp_path / "newsroom-press-kit"
    assert "pip install -e './newsroom-press-kit[test]'" in said
    assert 'dependencies = ["newsroom-digest>=' in (package / "pyproject.toml").read_text()
    env = installed(package, tmp_path / "site")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{tests} passed" in result.stdout
    listing = newsroom("plugins", "--json", cwd=tmp_path, env=env)
    assert '"press-kit"' in listing and "newsroom-press-kit" in listing and kind in listing


def test_an_existing_folder_or_a_bad_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "newsroom-taken").mkdir()
    for args in (["taken"], ["Bad_Name"]):
        result = subprocess.run(
            [sys.executable, "-m", "newsroom", "plugin", "new", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 3, result.stderr
    assert list((tmp_path / "newsroom-taken").iterdir()) == []
