"""Golden files: the first-party themes' output for fixed editions, byte for byte, so a
change to a template, a catalog or a renderer shows up as a diff to review.

After an intended change, write the new files and read the diff before committing:

    NEWSROOM_UPDATE_GOLDEN=1 python3 tests/run.py tests/test_themes_golden.py
    git diff tests/golden/
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest
from conftest import without_placeholder_key
from test_render import english_edition, korean_edition, write_config
from test_themes import FIRST_PARTY
from test_themes import plugins as plugins  # noqa: F401 (the module's fixture)

from newsroom import Edition
from newsroom.core.plugins import Plugins
from newsroom.render.rendering import render

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("NEWSROOM_UPDATE_GOLDEN") == "1"
SENDER = (
    '[email]\nfrom = "AI 브리핑 <briefing@example.org>"\n'
    'postal_address = "서울특별시 종로구 예시로 1"\n'
)
CASES = [(theme, "ko") for theme in FIRST_PARTY] + [("default", "en")]


def editions(language: str) -> list[Edition]:
    """The sample edition and the day before it, so archive and neighbour links show."""
    latest = korean_edition(hostile=True) if language == "ko" else english_edition()
    earlier = latest.model_copy(
        update={
            "id": "2026-02-13",
            "date": latest.date.replace(day=13),
            "title": latest.title.replace("14", "13"),
            "generated_at": latest.generated_at.replace(day=12),
        }
    )
    return [earlier, latest]


def outputs(root: Path, plugins: Plugins, theme: str, language: str) -> dict[str, str]:
    config = write_config(
        root,
        plugins,
        theme=theme,
        language=language,
        base_url="https://example.org/briefing/",
        extra=SENDER,
    )
    earlier, latest = editions(language)
    folder = config.output_dir / "editions" / earlier.id
    folder.mkdir(parents=True)
    earlier.save(folder / "edition.json")
    render(config, plugins, latest)
    out = config.output_dir
    files = {
        f"email/{name}": out / "editions" / latest.id / name
        for name in ("email.html", "email.txt", "email.json")
    }
    site = out / "site"
    for path in sorted(site.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".xml"):
            files[f"site/{path.relative_to(site).as_posix()}"] = path
    for path in sorted((out / "_posts").glob("*.md")):
        files[f"posts/{path.name}"] = path
    return {name: without_placeholder_key(path.read_text("utf-8")) for name, path in files.items()}


@pytest.mark.parametrize(("theme", "language"), CASES)
def test_first_party_output_matches_the_golden_files(
    plugins: Plugins, tmp_path: Path, theme: str, language: str
) -> None:
    produced = outputs(tmp_path, plugins, theme, language)
    folder = GOLDEN / f"{theme}-{language}"
    if UPDATE:
        for name, text in produced.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_text(text, "utf-8", newline="\n")
        for stale in folder.rglob("*"):
            if stale.is_file() and stale.relative_to(folder).as_posix() not in produced:
                stale.unlink()
    expected = {
        p.relative_to(folder).as_posix(): p.read_text("utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
    assert sorted(produced) == sorted(expected), "files produced differ from tests/golden"
    for name, text in produced.items():
        if text != expected[name]:
            diff = "".join(
                list(
                    difflib.unified_diff(
                        expected[name].splitlines(keepends=True),
                        text.splitlines(keepends=True),
                        f"golden/{theme}-{language}/{name}",
                        "produced",
                    )
                )[:80]
            )
            pytest.fail(f"{name} changed; if intended, run with NEWSROOM_UPDATE_GOLDEN=1\n{diff}")
