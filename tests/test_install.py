"""A third-party plugin the way a user gets it: the example package's wheel, installed with
`newsroom install` into a fresh virtual environment next to newsroom from this checkout,
listed, used by a build, limited by NEWSROOM_LOAD_PLUGINS, and uninstalled again.

One environment for the whole module: creating it and installing newsroom with its
dependencies is the slow part.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsroom.testing import LocalServer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "newsroom-sitemap"

pytestmark = pytest.mark.slow

SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://press.example/news/2026/02/14/model-release</loc>
    <news:news>
      <news:publication><news:name>예시일보</news:name><news:language>ko</news:language>
      </news:publication>
      <news:publication_date>2026-02-14T05:30:00+09:00</news:publication_date>
      <news:title>국내 연구진, 한국어 언어 모델 공개</news:title>
    </news:news>
  </url>
</urlset>
"""


@dataclass
class Env:
    """A virtual environment with newsroom installed, and the example plugin's wheel."""

    python: Path
    newsroom: Path
    wheel: Path

    def run(
        self, *args: str, cwd: Path, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        full = {k: v for k, v in os.environ.items() if k != "NEWSROOM_LOAD_PLUGINS"}
        full.update(env or {})
        return subprocess.run(
            [str(self.newsroom), *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=full,
            timeout=600,
        )

    def plugins(self, cwd: Path, **env: str) -> dict[str, dict[str, object]]:
        result = self.run("plugins", "--json", cwd=cwd, env=env)
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert data["failures"] == [], data["failures"]
        return {p["name"]: p for p in data["plugins"]}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Env:
    work = tmp_path_factory.mktemp("install")
    dist = work / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(dist),
            str(EXAMPLE),
        ],
        check=True,
        cwd=work,
    )
    (wheel,) = dist.glob("newsroom_sitemap-*.whl")
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(ROOT),
            "pytest",
        ],
        check=True,
        cwd=work,
    )
    return Env(python, env_dir / "bin" / "newsroom", wheel)


def newsletter(folder: Path, url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "newsroom.toml"
    config.write_text(
        f"""[newsletter]
title = "Press review"
language = "ko"
timezone = "Asia/Seoul"

[[sources]]
name = "press"
plugin = "sitemap"
url = "{url}"

[[sections]]
id = "news"
title = "News"

[[renderers]]
plugin = "markdown"
""",
        "utf-8",
    )
    return config


def test_install_list_build_and_uninstall_a_plugin_wheel(fresh: Env, tmp_path: Path) -> None:
    installed = fresh.run("install", str(fresh.wheel), cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    assert "Added plugin sitemap (newsroom-sitemap 0.1.0): sources: sitemap" in installed.stdout

    row = fresh.plugins(tmp_path)["sitemap"]
    assert row["package"] == "newsroom-sitemap" and row["version"] == "0.1.0"
    assert row["sources"] == ["sitemap"] and row["api"] == ">=1.0,<2"

    with LocalServer() as server:
        url = server.add("/news-sitemap.xml", SITEMAP)
        config = newsletter(tmp_path / "press", url)
        checked = fresh.run("check", cwd=config.parent)
        assert checked.returncode == 0, checked.stderr
        assert server.requests == []  # check fetches nothing
        built = fresh.run(
            "build", "--json", "--now", "2026-02-14T06:00:00+09:00", cwd=config.parent
        )
        assert built.returncode == 0, built.stderr
    report = json.loads(built.stdout)
    assert report["sources"][0]["plugin"] == "sitemap" and report["sources"][0]["items"] == 1
    edition = json.loads(Path(report["edition_json"]).read_text("utf-8"))
    (section,) = edition["sections"]
    assert [i["title"] for i in section["items"]] == ["국내 연구진, 한국어 언어 모델 공개"]

    removed = fresh.run("uninstall", "--yes", "newsroom-sitemap", cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert "sitemap" not in fresh.plugins(tmp_path)
    after = fresh.run("check", cwd=config.parent)
    assert after.returncode == 3
    assert "unknown source plugin 'sitemap'" in after.stderr


def test_install_from_a_folder_and_the_load_plugins_allowlist(fresh: Env, tmp_path: Path) -> None:
    installed = fresh.run("install", "./examples/newsroom-sitemap", cwd=ROOT)
    assert installed.returncode == 0, installed.stderr
    try:
        everything = fresh.plugins(tmp_path)
        assert "sitemap" in everything
        own_only = fresh.plugins(tmp_path, NEWSROOM_LOAD_PLUGINS="")
        assert "sitemap" not in own_only
        assert set(own_only) == set(everything) - {"sitemap"}
        assert {p["package"] for p in own_only.values()} == {"newsroom-digest"}
        allowed = fresh.plugins(tmp_path, NEWSROOM_LOAD_PLUGINS="newsroom_sitemap")
        assert "sitemap" in allowed
    finally:
        fresh.run("uninstall", "--yes", "newsroom-sitemap", cwd=tmp_path)


def test_editable_install_and_the_plugins_own_tests_pass_with_newsroom_fixtures(
    fresh: Env, tmp_path: Path
) -> None:
    installed = fresh.run("install", "-e", str(EXAMPLE), cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr
    try:
        assert fresh.plugins(tmp_path)["sitemap"]["package"] == "newsroom-sitemap"
        # The example's tests use newsroom's pytest plugin (local_server, build_edition)
        # exactly as a plugin author's would.
        tests = subprocess.run(
            [
                str(fresh.python),
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                str(EXAMPLE / "tests"),
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=600,
        )
        assert tests.returncode == 0, tests.stdout + tests.stderr
        assert " passed" in tests.stdout
    finally:
        fresh.run("uninstall", "--yes", "newsroom-sitemap", cwd=tmp_path)


def test_install_needs_something_to_install_and_never_removes_newsroom(
    fresh: Env, tmp_path: Path
) -> None:
    nothing = fresh.run("install", cwd=tmp_path)
    assert nothing.returncode == 2 and "name at least one package" in nothing.stderr
    for name in ("newsroom-digest", "Newsroom_Digest", "newsroom"):
        itself = fresh.run("uninstall", "--yes", name, cwd=tmp_path)
        assert itself.returncode == 2 and "does not uninstall itself" in itself.stderr
        assert "pip uninstall newsroom-digest" in itself.stderr
    missing = fresh.run("install", str(tmp_path / "no-such-plugin"), cwd=tmp_path)
    assert missing.returncode == 1 and "pip install failed" in missing.stderr
