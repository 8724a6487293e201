"""End to end: the example newsletter built against its sample data served on 127.0.0.1."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree, html

from newsroom import Filter, hookimpl
from newsroom.config.newsletter import open_newsletter
from newsroom.curate.pipeline import build
from newsroom.render.rendering import render
from newsroom.testing import LocalServer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ai-briefing"
AS_OF = dt.datetime.fromisoformat("2026-02-14T06:00:00+09:00")

HOSTILE_MARKERS = re.compile(r"<script|\son\w+\s*=|javascript:", re.I)


@pytest.fixture(scope="module")
def mirror() -> Iterator[LocalServer]:
    with LocalServer(EXAMPLE / "sample-data") as server:
        yield server


@pytest.fixture
def newsletter_dir(tmp_path: Path) -> Path:
    shutil.copy(EXAMPLE / "newsroom.toml", tmp_path / "newsroom.toml")
    return tmp_path


class InjectingFilter(Filter):
    """A filter plugin that adds hostile markup, as a buggy or malicious plugin might."""

    name = "inject"

    def apply(self, items, ctx):  # type: ignore[no-untyped-def]
        for item in items:
            item.summary += (
                '<script>steal()</script><a href="javascript:evil()" onclick="x()">x</a>'
            )
            item.title += '<img src=x onerror="alert(1)">'
        return items


def _hostile_plugin() -> types.ModuleType:
    module = types.ModuleType("inject_plugin")

    @hookimpl
    def register_filters(register):  # type: ignore[no-untyped-def]
        register(InjectingFilter)

    module.register_filters = register_filters  # type: ignore[attr-defined]
    return module


def _build(
    folder: Path, server: LocalServer, extra_toml: str = "", plugin: types.ModuleType | None = None
):  # type: ignore[no-untyped-def]
    config_path = folder / "newsroom.toml"
    if extra_toml:
        config_path.write_text(config_path.read_text("utf-8") + extra_toml, "utf-8")
    if plugin is not None:
        # Register before the config is validated, as an installed plugin would be.
        from newsroom.config import parse_config, read_toml
        from newsroom.core.plugins import load_plugins

        plugins = load_plugins()
        plugins.add(plugin, plugin.__name__)
        config = parse_config(read_toml(config_path), config_path, plugins)
    else:
        nl = open_newsletter(config_path)
        config, plugins = nl.config, nl.plugins
    result = asyncio.run(build(config, plugins, now=AS_OF, mirror=server.url))
    outputs = render(config, plugins, result.edition, now=AS_OF)
    return config, result, outputs


def test_example_builds_every_section_within_limits(
    newsletter_dir: Path, mirror: LocalServer
) -> None:
    config, result, outputs = _build(newsletter_dir, mirror)
    edition = result.edition
    configured = {cc.name: cc.options.limit for cc in config.sections}  # type: ignore[attr-defined]
    assert [s.id for s in edition.sections] == list(configured)
    for section in edition.sections:
        assert 1 <= len(section.items) <= configured[section.id], section.id
    assert edition.title.startswith("AI 브리핑") and "2026년 2월 14일" in edition.title
    assert not [w for w in edition.warnings if w.source != "filters"], edition.warnings
    # Every link absolute http(s); no duplicates by canonical URL.
    from newsroom.core.urls import canonical_url

    urls = [canonical_url(i.url) for i in edition.items]
    assert len(urls) == len(set(urls))
    assert all(i.url.startswith(("https://", "http://")) for i in edition.items)
    # Items link to the real sites, not to the local mirror.
    assert not any("127.0.0.1" in i.url for i in edition.items)
    names = {p.name for p in outputs}
    assert {"email.html", "email.txt", "index.html", "feed.xml"} <= names


def test_outputs_are_clean_even_with_a_hostile_source_and_filter(
    newsletter_dir: Path, mirror: LocalServer
) -> None:
    _, result, outputs = _build(
        newsletter_dir, mirror, '\n[[filters]]\nplugin = "inject"\n', plugin=_hostile_plugin()
    )
    assert result.edition.items
    assert all("steal" not in i.summary and "onerror" not in i.title for i in result.edition.items)
    for path in outputs:
        text = path.read_text("utf-8")
        found = HOSTILE_MARKERS.findall(text)
        assert not found, f"{path.name}: {found[:3]}"
    # The edition.json on disk is clean too.
    assert not HOSTILE_MARKERS.search(result.path.read_text("utf-8"))


def test_web_pages_and_feed_are_well_formed(newsletter_dir: Path, mirror: LocalServer) -> None:
    _, result, outputs = _build(newsletter_dir, mirror)
    for path in outputs:
        if path.suffix == ".xml":
            root = etree.parse(str(path)).getroot()
            atom, sitemap = "{http://www.w3.org/2005/Atom}feed", "sitemap/0.9}urlset"
            assert root.tag == atom or (path.name == "sitemap.xml" and root.tag.endswith(sitemap))
        elif path.suffix == ".html":
            doc = html.fromstring(path.read_bytes())
            assert doc.get("lang") == "ko", path
            assert doc.find(".//title") is not None, path
    email_txt = next(p for p in outputs if p.name == "email.txt").read_text("utf-8")
    for item in result.edition.items:
        assert item.url in email_txt


def test_rebuild_keeps_todays_items_but_history_drops_published_ones(
    newsletter_dir: Path, mirror: LocalServer
) -> None:
    from newsroom.store.state import State

    _, first, _ = _build(newsletter_dir, mirror)
    _, again, _ = _build(newsletter_dir, mirror)
    assert [i.id for i in again.edition.items] == [i.id for i in first.edition.items]
    with State(newsletter_dir / "state.db") as state:
        state.mark_published(first.edition.id)
    # The next morning's edition must not repeat yesterday's items.
    config_path = newsletter_dir / "newsroom.toml"
    nl = open_newsletter(config_path)
    later = asyncio.run(
        build(
            nl.config,
            nl.plugins,
            now=AS_OF + dt.timedelta(hours=2),
            edition_id="2026-02-14-late",
            mirror=mirror.url,
        )
    )
    assert not {i.id for i in later.edition.items} & {i.id for i in first.edition.items}


def _cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsroom", "-c", str(folder / "newsroom.toml"), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_build_from_a_folder_of_saved_responses(newsletter_dir: Path) -> None:
    """`--mirror FOLDER` serves the folder itself: offline work without running a server."""
    folder = os.path.relpath(EXAMPLE / "sample-data")
    proc = _cli(newsletter_dir, "build", "--json", "--mirror", folder, "--now", AS_OF.isoformat())
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert all(source["ok"] for source in report["sources"]), report["sources"]
    assert report["sections"]["papers"] == 5
    wrong = _cli(newsletter_dir, "build", "--mirror", str(newsletter_dir / "no-such-folder"))
    assert wrong.returncode == 2
    assert "is neither an http(s) URL nor a folder" in wrong.stderr


def test_cli_build_json_report(newsletter_dir: Path, mirror: LocalServer) -> None:
    proc = _cli(
        newsletter_dir, "build", "--json", "--mirror", mirror.url, "--now", AS_OF.isoformat()
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["edition"] == "2026-02-14"
    import tomllib

    configured = tomllib.loads((EXAMPLE / "newsroom.toml").read_text("utf-8"))["sources"]
    assert {s["name"] for s in report["sources"]} == {s["name"] for s in configured}
    assert all(s["ok"] for s in report["sources"])
    assert Path(report["edition_json"]).exists()
    # `render` re-renders the same edition from edition.json alone.
    proc = _cli(newsletter_dir, "render")
    assert proc.returncode == 0, proc.stderr
    assert "email.html" in proc.stdout


def test_cli_bad_sources_give_one_line_each_and_strict_exit(
    tmp_path: Path, local_server: LocalServer
) -> None:
    local_server.add("/500", "boom", status=500)
    local_server.add(
        "/html", "<!doctype html><html><body>hi</body></html>", content_type="text/html"
    )
    local_server.add("/notxml", "this is not a feed at all {", content_type="text/plain")
    local_server.add(
        "/good",
        (ROOT / "tests" / "data" / "feeds")
        .joinpath(next(p.name for p in (ROOT / "tests" / "data" / "feeds").glob("*.xml")))
        .read_bytes(),
    )
    feeds = {
        "dead": "http://127.0.0.1:9/feed",
        "e500": local_server.url + "/500",
        "page": local_server.url + "/html",
        "junk": local_server.url + "/notxml",
        "good": local_server.url + "/good",
    }
    sources = "".join(
        f'\n[[sources]]\nname = "{name}"\nplugin = "news"\nfeeds = ["{url}"]\n'
        for name, url in feeds.items()
    )
    (tmp_path / "newsroom.toml").write_text(
        '[newsletter]\ntitle = "T"\n[http]\nretries = 0\ntimeout = 3\n'
        + sources
        + '\n[[sections]]\nid = "all"\ntitle = "All"\nlimit = 50\n',
        "utf-8",
    )
    proc = _cli(tmp_path, "build", "--strict")
    assert proc.returncode == 4, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    out = proc.stdout
    for name, url in feeds.items():
        if name != "good":
            assert re.search(rf"│ {name}\s", out), out
            assert url in out, out
    proc = _cli(tmp_path, "build")
    assert proc.returncode == 0


def test_cli_config_error_exit_code(tmp_path: Path) -> None:
    (tmp_path / "newsroom.toml").write_text(
        "[newsletter]\ntitle = 1\n[[sources]]\nplugin='nope'\nname='x'\n"
    )
    proc = _cli(tmp_path, "build")
    assert proc.returncode == 3
    assert "newsroom.toml" in proc.stderr and "'nope'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_init_scaffold_builds(tmp_path: Path, mirror: LocalServer) -> None:
    target = tmp_path / "mine"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsroom",
            "init",
            str(target),
            "--language",
            "ko",
            "--title",
            "내 브리핑",
            "--timezone",
            "Asia/Seoul",
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    proc = _cli(target, "build", "--json", "--mirror", mirror.url, "--now", AS_OF.isoformat())
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert sum(report["sections"].values()) > 0


def test_cli_mark_published_and_editions(newsletter_dir: Path, mirror: LocalServer) -> None:
    proc = _cli(
        newsletter_dir,
        "build",
        "--json",
        "--no-render",
        "--mirror",
        mirror.url,
        "--now",
        AS_OF.isoformat(),
    )
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(_cli(newsletter_dir, "editions", "--json").stdout)
    assert [(e["id"], e["published_at"]) for e in listed] == [("2026-02-14", None)]
    assert _cli(newsletter_dir, "mark-published", "2026-02-14").returncode == 0
    listed = json.loads(_cli(newsletter_dir, "editions", "--json").stdout)
    assert listed[0]["published_at"] is not None
    missing = _cli(newsletter_dir, "mark-published", "2026-01-01")
    assert missing.returncode == 5 and "no edition '2026-01-01'" in missing.stderr


STALLING_RENDERER = '''
import os
import time

from newsroom import Renderer, hookimpl


class Stall(Renderer):
    """Stops in the render, as a build killed there would (the test kills it)."""

    name = "stall"

    def render(self, edition, ctx):
        with open(os.environ["STALL_MARKER"], "w") as marker:
            marker.write(edition.title)
        time.sleep(3600)
        return []


@hookimpl
def register_renderers(register):
    register(Stall)
'''


def test_a_build_killed_before_its_render_leaves_no_old_email_beside_the_new_edition(
    newsletter: Path, mirror: LocalServer, tmp_path: Path
) -> None:
    from conftest import EDITION, newsroom_cli

    folder = newsletter.parent / "build" / "editions" / EDITION
    old_subject = json.loads((folder / "email.json").read_text("utf-8"))["subject"]
    (newsletter.parent / "plugins").mkdir()
    (newsletter.parent / "plugins" / "stall.py").write_text(STALLING_RENDERER, "utf-8")
    text = re.sub(
        r"(?m)^edition_title = .*$",
        'edition_title = "Rebuilt {iso_date}"',
        newsletter.read_text("utf-8"),
    )
    newsletter.write_text(
        '[plugins]\nplugins_dir = "plugins"\n'
        + text
        + '\n[[renderers]]\nplugin = "stall"\n[[renderers]]\nplugin = "email"\n',
        "utf-8",
    )
    marker = tmp_path / "rendering"
    rebuild = subprocess.Popen(
        [sys.executable, "-m", "newsroom", "-c", str(newsletter), "build"]
        + ["--mirror", mirror.url, "--now", AS_OF.isoformat()],
        env={**os.environ, "STALL_MARKER": str(marker)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and rebuild.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), rebuild.stderr.read() if rebuild.stderr else ""
    finally:
        rebuild.kill()  # as a power cut or the OOM killer would
        rebuild.wait()

    # The new edition is there; the email of the one it replaced is not.
    edition = json.loads((folder / "edition.json").read_text("utf-8"))
    assert edition["title"] == f"Rebuilt {EDITION}"
    left = [name for name in ("email.html", "email.txt", "email.json") if (folder / name).exists()]
    assert left == []
    # So a send asks for a render rather than sending the old email as the new edition.
    sent = newsroom_cli(newsletter, "send", EDITION, "--dry-run")
    assert sent.returncode != 0
    assert f"edition {EDITION!r} has no rendered email" in sent.stderr
    assert old_subject not in sent.stdout


def test_templates_compiled_by_a_worker_during_the_build_render_what_the_render_would(
    newsletter: Path,
) -> None:
    from conftest import EDITION, newsroom_cli, without_placeholder_key

    # `newsroom build` (the fixture's) had a worker compile the theme while it fetched.
    folder = newsletter.parent / "build" / "editions" / EDITION
    outputs = ("email.html", "email.txt", "email.json")

    def read(name: str) -> str:  # each render draws its own placeholder key
        return without_placeholder_key((folder / name).read_text("utf-8"))

    built = {name: read(name) for name in outputs}
    cache = newsletter.parent / ".cache" / "templates"
    assert any(cache.iterdir())
    shutil.rmtree(cache)
    rendered = newsroom_cli(newsletter, "render", EDITION)
    assert rendered.returncode == 0, rendered.stderr
    assert {name: read(name) for name in outputs} == built
