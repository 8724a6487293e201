"""Checked by looking: each first-party theme's email and web pages drawn by headless
Chromium at desktop and mobile width in light and dark mode, and checked by axe-core."""

from __future__ import annotations

import datetime as dt
import json
import struct
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, require, require_tool
from test_render import write_config
from test_themes import FIRST_PARTY, long_korean_edition
from test_themes import plugins as plugins  # noqa: F401 (the module's fixture)

from newsroom.core.plugins import Plugins
from newsroom.render.rendering import render

NODE_DIR = ROOT / "tests" / "node"
BAD = {"serious", "critical"}


def node_with(package: str) -> str:
    node = require_tool("node")
    require_tool("chromium")
    require(
        (NODE_DIR / "node_modules" / package).is_dir(),
        "npm packages in tests/node",
        "cd tests/node && npm ci --ignore-scripts",
    )
    return node


@pytest.fixture(scope="module", params=FIRST_PARTY)
def outputs(
    request: pytest.FixtureRequest, plugins: Plugins, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, dict[str, Path]]:
    """A theme's email and web pages for a three-edition archive."""
    theme = request.param
    config = write_config(
        tmp_path_factory.mktemp(f"look-{theme}"),
        plugins,
        theme=theme,
        base_url="https://example.org/briefing/",
        extra='[email]\nfrom = "AI 브리핑 <b@example.org>"\npostal_address = "서울 종로구 1"\n',
    )
    days = [dt.date(2026, 2, 12), dt.date(2026, 2, 13), dt.date(2026, 2, 14)]
    editions = [long_korean_edition(12, day) for day in days]
    for edition in editions:
        folder = config.output_dir / "editions" / edition.id
        folder.mkdir(parents=True)
        edition.save(folder / "edition.json")
    render(config, plugins, editions[-1])
    site = config.output_dir / "site"
    return theme, {
        "email": config.output_dir / "editions" / editions[-1].id / "email.html",
        "front": site / "index.html",
        "archive": site / "archive" / "index.html",
        "edition": site / "editions" / editions[1].id / "index.html",
    }


def test_web_pages_pass_axe_and_the_email_has_nothing_serious(
    outputs: tuple[str, dict[str, Path]],
) -> None:
    theme, files = outputs
    node = node_with("axe-core")
    done = subprocess.run(
        [node, str(NODE_DIR / "a11y.mjs"), *map(str, files.values())],
        capture_output=True,
        text=True,
        cwd=NODE_DIR,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    for name, path in files.items():
        for mode in ("light", "dark"):
            violations = report[str(path)][mode]
            if name == "email":
                # An email has no landmarks (moderate); nothing may be serious or critical,
                # colour contrast in both modes included.
                bad = [v for v in violations if v["impact"] in BAD]
                assert not bad, f"{theme} {name} {mode}: {bad}"
            else:
                assert not violations, f"{theme} {name} {mode}: {violations}"


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_screenshots_at_both_widths_in_both_modes_without_sideways_scrolling(
    outputs: tuple[str, dict[str, Path]], tmp_path: Path
) -> None:
    theme, files = outputs
    node = node_with("playwright-core")
    shots = tmp_path / "shots"
    done = subprocess.run(
        [
            node,
            str(NODE_DIR / "screenshots.mjs"),
            str(shots),
            *(f"{theme}-{name}={path}" for name, path in files.items()),
        ],
        capture_output=True,
        text=True,
        cwd=NODE_DIR,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    taken = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(taken) == len(files) * 4
    for shot in taken:
        width, height = _png_size(Path(shot["out"]))
        assert width == shot["viewport"], shot
        # Nothing wider than the screen: a phone never scrolls sideways.
        assert shot["width"] <= shot["viewport"], shot
        assert height > 600, shot
    for name in files:
        for device in ("desktop", "mobile"):
            light = shots / f"{theme}-{name}.{device}.light.png"
            dark = shots / f"{theme}-{name}.{device}.dark.png"
            assert light.read_bytes() != dark.read_bytes(), f"{name} {device}: no dark mode"
