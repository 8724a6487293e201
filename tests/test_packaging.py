"""`pip install .` and `pip install -e .` both expose every first-party plugin and theme
through entry points, and never a bare `plugins`, `themes` or `tests` package."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import json, importlib.util
from importlib.metadata import entry_points
from pathlib import Path
out = {"plugins": {}, "themes": {}, "bare": {}}
for ep in entry_points(group="newsroom.plugins"):
    spec = importlib.util.find_spec(ep.value)
    out["plugins"][ep.name] = bool(spec and spec.origin and Path(spec.origin).exists())
for ep in entry_points(group="newsroom.themes"):
    spec = importlib.util.find_spec(ep.value)
    folder = Path(next(iter(spec.submodule_search_locations)))
    out["themes"][ep.name] = (folder / "theme.toml").exists() and (folder / "templates").is_dir()
for name in ("plugins", "themes", "tests", "examples", "benchmarks"):
    out["bare"][name] = importlib.util.find_spec(name) is not None
spec = importlib.util.find_spec("newsroom")
out["package"] = bool(spec.origin and spec.origin.endswith("__init__.py"))  # not a namespace
found = importlib.util.find_spec("newsroom_examples")
examples = Path(next(iter(found.submodule_search_locations))) if found else None
out["example"] = sorted(p.name for p in (examples / "ai-briefing").iterdir()) if found else []
print(json.dumps(out))
"""


def _expected_entry_points() -> tuple[set[str], set[str]]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    eps = project["entry-points"]
    return set(eps["newsroom.plugins"]), set(eps["newsroom.themes"])


@pytest.mark.slow
@pytest.mark.parametrize("editable", [False, True], ids=["install", "editable"])
def test_install_exposes_plugins_and_themes(tmp_path: Path, editable: bool) -> None:
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    # An exact editable install needs its import hook's runtime package (normally a dependency).
    target = ["editables", "-e", str(ROOT)] if editable else [str(ROOT)]
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--disable-pip-version-check",
            *target,
        ],
        check=True,
        cwd=tmp_path,
    )
    # Run from an unrelated folder so the checkout itself is not on sys.path.
    result = subprocess.run(
        [str(python), "-c", PROBE], check=True, capture_output=True, text=True, cwd=tmp_path
    )
    found = json.loads(result.stdout)
    plugins, themes = _expected_entry_points()
    assert set(found["plugins"]) == plugins and all(found["plugins"].values()), found
    assert set(found["themes"]) == themes and all(found["themes"].values()), found
    assert not any(found["bare"].values()), found["bare"]
    assert found["package"]
    if not editable:  # `newsroom init --example ai-briefing` (a checkout reads examples/)
        assert found["example"] == [
            "README.md",
            "newsroom.toml",
            "notes",
            "sample-data",
            "subscribers.csv",
        ]


def test_core_never_imports_a_plugin_by_name() -> None:
    names = {p.name for p in (ROOT / "plugins").iterdir() if p.name.startswith("newsroom_")}
    names |= {p.name for p in (ROOT / "themes").iterdir() if p.name.startswith("newsroom_")}
    for source in (ROOT / "newsroom").rglob("*.py"):
        text = source.read_text("utf-8")
        for name in names:
            assert f"import {name}" not in text and f"from {name}" not in text, (source, name)


def test_importing_newsroom_does_not_import_plugins() -> None:
    code = (
        "import sys, newsroom; "
        "print([m for m in sys.modules"
        " if m.startswith('newsroom_') or m in ('feedparser', 'selectolax')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
