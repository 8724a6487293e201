"""The web edition as a site: front page, archive by month, a page per edition, Atom feed and
sitemap; links that work from disk and under a base URL with a path; incremental builds; and
``newsroom publish`` to a folder and to a git branch."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import urlopen

import pytest
from click.testing import CliRunner
from conftest import require_tool
from lxml import etree
from lxml import html as lxml_html
from test_render import write_config
from test_themes import FIRST_PARTY, long_korean_edition
from test_themes import plugins as plugins  # noqa: F401 (the module's fixture)

from newsroom import Edition
from newsroom.cli import cli
from newsroom.config import Config
from newsroom.core.plugins import Plugins
from newsroom.render.rendering import render

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
BASE = "https://example.org/news/briefing/"


def dated(day: dt.date, items: int = 6) -> Edition:
    edition = long_korean_edition(items, day)
    return edition.model_copy(update={"title": f"AI 브리핑 {day.month}월 {day.day}일"})


def save(config: Config, edition: Edition) -> None:
    folder = config.output_dir / "editions" / edition.id
    folder.mkdir(parents=True, exist_ok=True)
    edition.save(folder / "edition.json")


def build_archive(config: Config, plugins: Plugins, days: list[dt.date]) -> list[Edition]:
    """Editions for ``days`` on disk, then the site rendered with the last one."""
    editions = [dated(day) for day in days]
    for edition in editions:
        save(config, edition)
    render(config, plugins, editions[-1])
    return editions


def snapshot(site: Path) -> dict[str, tuple[int, bytes]]:
    return {
        p.relative_to(site).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
        for p in site.rglob("*")
        if p.is_file()
    }


DAYS = [dt.date(2026, 1, 30) + dt.timedelta(days=i) for i in range(8)]  # January and February


@pytest.fixture(scope="module", params=FIRST_PARTY)
def site(
    request: pytest.FixtureRequest, plugins: Plugins, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Config, list[Edition], Path]:
    config = write_config(
        tmp_path_factory.mktemp(f"site-{request.param}"),
        plugins,
        base_url=BASE,
        theme=request.param,
    )
    editions = build_archive(config, plugins, DAYS)
    return config, editions, config.output_dir / "site"


def page(path: Path) -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(path.read_text("utf-8"))


def test_the_site_has_a_front_page_an_archive_by_month_pages_a_feed_and_a_sitemap(
    site: tuple[Config, list[Edition], Path],
) -> None:
    _, editions, root = site
    latest = editions[-1]
    index = page(root / "index.html")
    assert index.find(".//h1").text_content().strip() == latest.title
    assert latest.sections[0].items[0].url in {a.get("href") for a in index.iter("a")}
    recent = [a.get("href") for a in index.get_element_by_id("archive").iter("a")]
    assert recent[0] == f"editions/{latest.id}/index.html"
    assert recent[-1] == "archive/index.html"

    archive = page(root / "archive" / "index.html")
    months = archive.find_class("nr-month")
    assert [m.get("id") for m in months] == ["2026-02", "2026-01"]
    assert months[0].findtext(".//h2").startswith("2026년 2월")
    assert months[1].findtext(".//h2").startswith("2026년 1월")
    listed = [a.get("href") for m in months for a in m.iter("a")]
    assert listed == [f"../editions/{e.id}/index.html" for e in reversed(editions)]

    for edition in editions:
        doc = page(root / "editions" / edition.id / "index.html")
        for section in edition.sections:
            assert doc.get_element_by_id(section.id).tag == "section"
        contents = [a.get("href") for a in doc.find_class("nr-contents")[0].iter("a")]
        assert contents == [f"#{s.id}" for s in edition.sections]

    feed = etree.parse(str(root / "feed.xml")).getroot()
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [e.title for e in reversed(editions)]
    assert entries[0].find(f"{ATOM}link").get("href") == f"{BASE}editions/{latest.id}/"

    sitemap = etree.parse(str(root / "sitemap.xml")).getroot()
    locs = [u.findtext(f"{SITEMAP}loc") for u in sitemap.findall(f"{SITEMAP}url")]
    assert locs[:2] == [BASE, f"{BASE}archive/"]
    assert set(locs[2:]) == {f"{BASE}editions/{e.id}/" for e in editions}


def test_editions_link_to_the_previous_and_the_next(
    site: tuple[Config, list[Edition], Path],
) -> None:
    _, editions, root = site
    first, middle, last = editions[0], editions[3], editions[-1]

    def nav(edition: Edition) -> dict[str, str]:
        doc = page(root / "editions" / edition.id / "index.html")
        return {a.get("rel"): a.get("href") for a in doc.iter("a") if a.get("rel")}

    assert nav(first) == {"next": f"../../editions/{editions[1].id}/index.html"}
    assert nav(middle) == {
        "prev": f"../../editions/{editions[2].id}/index.html",
        "next": f"../../editions/{editions[4].id}/index.html",
    }
    assert nav(last) == {"prev": f"../../editions/{editions[-2].id}/index.html"}


def _local_links(path: Path) -> Iterator[str]:
    doc = page(path)
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        for attr in ("href", "src"):
            value = element.get(attr)
            if value and not urlsplit(value).scheme and not value.startswith("//"):
                yield value


def test_every_link_works_opened_from_disk(site: tuple[Config, list[Edition], Path]) -> None:
    _, _, root = site
    checked = 0
    for path in root.rglob("*.html"):
        for value in _local_links(path):
            parts = urlsplit(value)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.is_file(), f"{path.relative_to(root)}: {value}"
            assert target.is_relative_to(root.resolve()), value
            if parts.fragment:
                assert page(target).get_element_by_id(parts.fragment, None) is not None, value
            checked += 1
    assert checked > 100


@pytest.fixture
def served(site: tuple[Config, list[Edition], Path], tmp_path: Path) -> Iterator[str]:
    """The site published under /news/briefing/ of a local web server."""
    import shutil

    docroot = tmp_path / "www"
    shutil.copytree(site[2], docroot / "news" / "briefing")
    handler = functools.partial(_QuietHandler, directory=str(docroot))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/news/briefing/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_the_site_works_under_a_base_url_with_a_path(
    site: tuple[Config, list[Edition], Path], served: str
) -> None:
    """Crawl everything reachable from the front page, as a visitor would."""
    _, editions, _ = site
    todo, seen = [served], set()
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        with urlopen(url, timeout=5) as response:
            assert response.status == 200, url
            body = response.read()
        if not url.endswith((".html", "/")):
            continue
        doc = lxml_html.document_fromstring(body.decode("utf-8"))
        for element in doc.iter():
            for attr in ("href", "src"):
                value = element.get(attr) if isinstance(element.tag, str) else None
                if not value or urlsplit(value).scheme or value.startswith("#"):
                    continue
                target = urljoin(url, value).split("#", 1)[0]
                assert target.startswith(served), f"{url}: {value} leaves the site"
                todo.append(target)
    pages = {u for u in seen if u.endswith("index.html")}
    assert {f"{served}editions/{e.id}/index.html" for e in editions} <= pages
    assert f"{served}archive/index.html" in pages and f"{served}feed.xml" in seen
    assert f"{served}static/newsroom.css" in seen
    # The absolute addresses (feed, sitemap, canonical) map onto the same files.
    with urlopen(f"{served}editions/{editions[0].id}/", timeout=5) as response:
        canonical = lxml_html.document_fromstring(response.read().decode("utf-8"))
    assert canonical.xpath("//link[@rel='canonical']/@href") == [
        f"{BASE}editions/{editions[0].id}/"
    ]


def test_adding_one_edition_rewrites_only_what_changed(plugins: Plugins, tmp_path: Path) -> None:
    config = write_config(tmp_path, plugins, base_url=BASE, theme="briefing")
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(40)]
    editions = build_archive(config, plugins, days)
    site = config.output_dir / "site"
    before = snapshot(site)
    assert len([k for k in before if k.startswith("editions/")]) == 40

    new = dated(days[-1] + dt.timedelta(days=1))
    save(config, new)
    written = render(config, plugins, new, only={"web"})
    after = snapshot(site)
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed == {
        f"editions/{new.id}/index.html",
        f"editions/{editions[-1].id}/index.html",  # it gained a "next edition" link
        "index.html",
        "archive/index.html",
        "feed.xml",
        "sitemap.xml",
    }
    assert {p.relative_to(site).as_posix() for p in written} == changed

    # Nothing changed: nothing is written.
    assert render(config, plugins, new, only={"web"}) == []
    assert snapshot(site) == after


def test_a_changed_edition_a_changed_theme_and_a_removed_edition(
    plugins: Plugins, tmp_path: Path
) -> None:
    config = write_config(tmp_path, plugins, base_url=BASE)
    days = [dt.date(2026, 2, 1) + dt.timedelta(days=i) for i in range(5)]
    editions = build_archive(config, plugins, days)
    site = config.output_dir / "site"

    # An edition edited on disk: its page, and its neighbours' links to its new title.
    edited = editions[2].model_copy(update={"title": "AI 브리핑 특집호"})
    save(config, edited)
    before = snapshot(site)
    render(config, plugins, editions[-1], only={"web"})
    after = snapshot(site)
    changed = {k for k in after if before.get(k) != after[k]}
    pages = {k for k in changed if k.startswith("editions/")}
    assert pages == {f"editions/{e.id}/index.html" for e in editions[1:4]}
    assert "특집호" in (site / "editions" / edited.id / "index.html").read_text("utf-8")

    # Another look: every page is rendered again.
    theme = tmp_path / "look"
    (theme / "templates" / "web").mkdir(parents=True)
    (theme / "templates" / "web" / "_item.html.j2").write_text(
        '{% extends "default:web/_item.html.j2" %}', "utf-8"
    )
    (theme / "templates" / "web" / "_edition_header.html.j2").write_text(
        '<header><h1 class="look">{{ edition.title }}</h1></header>', "utf-8"
    )
    config = write_config(tmp_path, plugins, base_url=BASE, theme="./look")
    render(config, plugins, editions[-1], only={"web"})
    for edition in editions:
        assert 'class="look"' in (site / "editions" / edition.id / "index.html").read_text("utf-8")

    # An edition whose edition.json is gone loses its page and its place in the lists.
    gone = editions[1]
    (config.output_dir / "editions" / gone.id / "edition.json").unlink()
    render(config, plugins, editions[-1], only={"web"})
    assert not (site / "editions" / gone.id).exists()
    assert gone.title not in (site / "archive" / "index.html").read_text("utf-8")


def test_a_full_build_or_a_new_theme_still_removes_what_is_gone(
    plugins: Plugins, tmp_path: Path
) -> None:
    config = write_config(tmp_path, plugins, base_url=BASE, theme="briefing")
    days = [dt.date(2026, 3, 1) + dt.timedelta(days=i) for i in range(3)]
    editions = build_archive(config, plugins, days)
    site = config.output_dir / "site"
    (site / "static" / "mine.txt").write_text("not newsroom's", "utf-8")
    assert (site / "static" / "briefing.css").is_file()

    # newsroom publish --full: every page rendered again, and the gone edition's page removed.
    gone = editions[0]
    (config.output_dir / "editions" / gone.id / "edition.json").unlink()
    render(config, plugins, editions[-1], only={"web"}, options={"web": {"incremental": False}})
    assert not (site / "editions" / gone.id).exists()
    assert f"editions/{gone.id}/" not in (site / "sitemap.xml").read_text("utf-8")

    # Another theme at the same time as a removed edition: both are cleaned up.
    gone = editions[1]
    (config.output_dir / "editions" / gone.id / "edition.json").unlink()
    config = write_config(tmp_path, plugins, base_url=BASE, theme="default")
    render(config, plugins, editions[-1], only={"web"})
    assert not (site / "editions" / gone.id).exists()
    assert (site / "editions" / editions[2].id / "index.html").is_file()
    assert not (site / "static" / "briefing.css").exists()  # the former theme's
    assert (site / "static" / "newsroom.css").is_file()
    assert (site / "static" / "mine.txt").read_text("utf-8") == "not newsroom's"


def test_the_email_links_to_the_page_the_site_has_for_a_korean_edition_id(
    plugins: Plugins, tmp_path: Path
) -> None:
    config = write_config(tmp_path, plugins, base_url=BASE)
    edition = dated(dt.date(2026, 2, 3)).model_copy(update={"id": "2026-02-03-특집호"})
    save(config, edition)
    written = render(config, plugins, edition)
    site = config.output_dir / "site"
    canonical = page(site / "editions" / edition.id / "index.html").xpath(
        "//link[@rel='canonical']/@href"
    )
    assert canonical == [f"{BASE}editions/2026-02-03-%ED%8A%B9%EC%A7%91%ED%98%B8/"]
    sitemap = etree.parse(str(site / "sitemap.xml")).getroot()
    assert canonical[0] in [loc.text for loc in sitemap.iter(f"{SITEMAP}loc")]
    email = next(p for p in written if p.name == "email.html")
    links = page(email).xpath("//a[contains(., '웹에서 보기')]/@href")  # "View in browser"
    assert links and set(links) == set(canonical)
    text = next(p for p in written if p.suffix == ".txt").read_text("utf-8")
    assert canonical[0] in text and f"{BASE}editions/{edition.id}/" not in text


def test_the_markdown_export_keeps_working(site: tuple[Config, list[Edition], Path]) -> None:
    config, editions, _ = site
    post = config.output_dir / "_posts" / f"{editions[-1].id}-ai-브리핑.md"
    text = post.read_text("utf-8")
    assert text.startswith('---\nlayout: "post"\n')
    assert "\n## 📄 논문 동향\n" in text and "\n### 1. " in text and "- **출처:** arXiv" in text


def test_without_a_base_url_links_are_relative_and_there_is_no_sitemap(
    plugins: Plugins, tmp_path: Path
) -> None:
    config = write_config(tmp_path, plugins)
    editions = build_archive(config, plugins, DAYS[:2])
    site = config.output_dir / "site"
    assert not (site / "sitemap.xml").exists()
    feed = etree.parse(str(site / "feed.xml")).getroot()
    link = feed.find(f"{ATOM}entry/{ATOM}link").get("href")
    assert link == f"editions/{editions[-1].id}/index.html" and (site / link).is_file()


# -- newsroom publish ---------------------------------------------------------------------


def cli_config(root: Path, plugins: Plugins, *, theme: str = "default") -> Config:
    """A newsletter the real command line can open (its source is never fetched here)."""
    from newsroom.config import load_config

    root.mkdir(parents=True, exist_ok=True)
    (root / "newsroom.toml").write_text(
        f'[newsletter]\ntitle = "AI 브리핑"\nlanguage = "ko"\ntimezone = "Asia/Seoul"\n'
        f'base_url = "{BASE}"\ntheme = "{theme}"\n\n'
        '[[sources]]\nname = "feeds"\nplugin = "news"\nfeeds = ["http://127.0.0.1:9/feed"]\n',
        "utf-8",
    )
    return load_config(root / "newsroom.toml", plugins)


def _publish(config: Config, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(cli, ["-c", str(config.path), "publish", "--json", *args])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.output)
    return data


def test_publish_keeps_a_folder_in_sync_and_leaves_other_files_alone(
    plugins: Plugins, tmp_path: Path
) -> None:
    config = cli_config(tmp_path / "n", plugins, theme="briefing")
    editions = build_archive(config, plugins, DAYS[:3])
    www = tmp_path / "www"
    www.mkdir()
    (www / "robots.txt").write_text("User-agent: *\n", "utf-8")
    first = _publish(config, "--to", str(www))
    site = config.output_dir / "site"
    files = {p.relative_to(site) for p in site.rglob("*") if p.is_file()}
    assert first["folder"]["copied"] == len(files)  # type: ignore[index]
    assert all((www / f).read_bytes() == (site / f).read_bytes() for f in files)

    again = _publish(config, "--to", str(www))
    assert again["folder"] == {  # nothing to do
        "path": str(www.resolve()),
        "copied": 0,
        "removed": 0,
        "unchanged": len(files),
    }
    (config.output_dir / "editions" / editions[0].id / "edition.json").unlink()
    third = _publish(config, "--to", str(www))
    assert third["folder"]["removed"] == 1  # type: ignore[index]
    assert not (www / "editions" / editions[0].id).exists()
    assert (www / "robots.txt").is_file()  # not ours: untouched


def test_publish_never_replaces_a_file_it_did_not_publish_unless_forced(
    plugins: Plugins, tmp_path: Path
) -> None:
    import shutil

    config = cli_config(tmp_path / "n", plugins, theme="briefing")
    editions = build_archive(config, plugins, DAYS[:3])
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.html").write_text("<h1>the web server's own page</h1>", "utf-8")
    (www / "robots.txt").write_text("User-agent: *\n", "utf-8")

    args = ["-c", str(config.path), "publish", "--to", str(www)]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code != 0
    assert "did not publish there" in refused.output and "index.html" in refused.output
    assert "newsroom publish --force" in refused.output
    assert sorted(p.name for p in www.iterdir()) == ["index.html", "robots.txt"]  # untouched
    assert "own page" in (www / "index.html").read_text("utf-8")

    forced = _publish(config, "--to", str(www), "--force")
    site = config.output_dir / "site"
    assert (www / "index.html").read_bytes() == (site / "index.html").read_bytes()
    assert forced["folder"]["copied"] == len(list(p for p in site.rglob("*") if p.is_file()))  # type: ignore[index]
    record = json.loads((www / ".newsroom-published.json").read_text("utf-8"))
    assert "index.html" in record["files"] and "robots.txt" not in record["files"]

    # build/ deleted and made again: the folder's own record still says what is newsroom's.
    shutil.rmtree(config.output_dir)
    build_archive(config, plugins, DAYS[1:3])
    again = _publish(config, "--to", str(www))
    assert again["folder"]["removed"] == 1  # type: ignore[index]
    assert not (www / "editions" / editions[0].id).exists()
    assert (www / "robots.txt").read_text("utf-8") == "User-agent: *\n"


def test_run_refuses_to_replace_a_file_of_someone_elses(newsletter: Path, tmp_path: Path) -> None:
    from conftest import AS_OF, EXAMPLE, newsroom_cli, point_at
    from test_send import add_subscribers

    from newsroom.dev.smtpsink import SmtpSink
    from newsroom.testing import LocalServer

    www = tmp_path / "www"
    www.mkdir()
    (www / "index.html").write_text("<h1>the web server's own page</h1>", "utf-8")
    newsletter.write_text(
        newsletter.read_text("utf-8") + f'\n[publish]\ndirectory = "{www}"\n', "utf-8"
    )
    add_subscribers(newsletter, 2)
    with SmtpSink() as sink, LocalServer(EXAMPLE / "sample-data") as server:
        point_at(newsletter, sink.port)
        result = newsroom_cli(newsletter, "run", "--now", AS_OF, "--mirror", server.url)
    assert result.returncode != 0
    assert "index.html" in result.stderr and "newsroom publish --force" in result.stderr
    assert "own page" in (www / "index.html").read_text("utf-8")
    assert sink.total == 0


def _git(repo: Path, *args: str) -> str:
    git = require_tool("git")
    done = subprocess.run([git, *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_publish_commits_the_site_to_a_branch_and_pushes_it(
    plugins: Plugins, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    config = cli_config(repo, plugins)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.name", "편집부")
    _git(repo, "config", "user.email", "editor@example.org")
    _git(repo, "add", "newsroom.toml")
    _git(repo, "commit", "-q", "-m", "newsletter")
    (repo / "newsroom.toml").write_text(
        (repo / "newsroom.toml").read_text("utf-8") + "\n# an edit in progress\n", "utf-8"
    )
    remote = tmp_path / "pages.git"
    _git(tmp_path, "init", "-q", "--bare", str(remote))
    _git(repo, "remote", "add", "origin", str(remote))
    editions = build_archive(config, plugins, DAYS[:2])
    status = _git(repo, "status", "--porcelain")

    first = _publish(config, "--branch", "gh-pages", "--remote", "origin")
    branch = first["branch"]
    assert branch["changed"] and branch["pushed_to"] == "origin"  # type: ignore[index]
    tree = set(_git(repo, "ls-tree", "-r", "--name-only", "gh-pages").splitlines())
    assert {".nojekyll", "index.html", "feed.xml", "sitemap.xml", "archive/index.html"} <= tree
    assert f"editions/{editions[-1].id}/index.html" in tree
    assert _git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert _git(repo, "status", "--porcelain") == status  # checkout and index as they were
    assert _git(remote, "rev-parse", "gh-pages") == branch["commit"]  # type: ignore[index]
    message = _git(repo, "log", "-1", "--format=%an|%s", "gh-pages")
    assert message == f"편집부|Publish {editions[-1].id}: {editions[-1].title}"

    assert not _publish(config, "--branch", "gh-pages")["branch"]["changed"]  # type: ignore[index]
    save(config, dated(DAYS[2]))
    third = _publish(config, "--branch", "gh-pages")
    assert third["branch"]["changed"]  # type: ignore[index]
    assert _git(repo, "rev-list", "--count", "gh-pages") == "2"
    assert _git(repo, "rev-parse", "gh-pages~1") == branch["commit"]  # type: ignore[index]


def test_publish_refuses_a_branch_that_is_checked_out(plugins: Plugins, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    config = cli_config(repo, plugins)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "newsroom.toml")
    _git(repo, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "newsletter")
    _git(repo, "worktree", "add", "-q", "-b", "pages", str(tmp_path / "elsewhere"))
    build_archive(config, plugins, DAYS[:1])
    main, pages = _git(repo, "rev-parse", "main"), _git(repo, "rev-parse", "pages")
    for branch, where in (("main", repo), ("pages", tmp_path / "elsewhere")):
        result = CliRunner().invoke(cli, ["-c", str(config.path), "publish", "--branch", branch])
        assert result.exit_code != 0
        assert f"cannot publish to branch {branch}: it is checked out in" in result.output
        assert where.name in result.output
    assert (_git(repo, "rev-parse", "main"), _git(repo, "rev-parse", "pages")) == (main, pages)
    _git(repo, "checkout", "-q", "--detach")  # no branch checked out here: main is free
    assert _publish(config, "--branch", "main")["branch"]["changed"]  # type: ignore[index]


def test_publish_needs_somewhere_to_publish_to(plugins: Plugins, tmp_path: Path) -> None:
    config = cli_config(tmp_path, plugins)
    build_archive(config, plugins, DAYS[:1])
    result = CliRunner().invoke(cli, ["-c", str(config.path), "publish"])
    assert result.exit_code != 0
    assert "set [publish] directory or git_branch, or give --to/--branch" in result.output
    result = CliRunner().invoke(cli, ["-c", str(config.path), "publish", "--branch", "gh-pages"])
    assert result.exit_code != 0 and "not inside a git repository" in result.output
