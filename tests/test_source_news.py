"""The news source over real HTTP (a LocalServer on 127.0.0.1): our samples, captured real
feeds, and every way a feed can fail without sinking the others."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import io
import sqlite3
import time
from pathlib import Path

import feedparser
import pytest
from newsroom_news import NewsSource
from pydantic import ValidationError

from newsroom import Item, SourceError
from newsroom.collect.http import MB
from newsroom.testing import LocalServer, run_source

DATA = Path(__file__).parent / "data" / "feeds"
NOW = dt.datetime(2026, 2, 14, 9, 0, tzinfo=dt.UTC)
REDDIT = "reddit/ai-weekly-radar_r-LocalLLaMA_top.rss_t-week_2026-07-13.atom.xml"
HN = "hackernews/hnrss_newest_points300_2017-04-06_rss.xml"
PRODUCTHUNT = "producthunt/ai-weekly-radar_www.producthunt.com_feed_2026-07-13.atom.xml"

Warnings = list[tuple[str, str | None]]


def source(*feeds: object, **options: object) -> NewsSource:
    return NewsSource(NewsSource.Options(feeds=list(feeds), **options), instance="news")


def fetch(src: NewsSource, **settings: object) -> tuple[list[Item], Warnings]:
    run = run_source(src, language="ko", now=NOW, **settings)
    return run.items, run.warnings


def serve(server: LocalServer, name: str, path: str | None = None, **kwargs: object) -> str:
    return server.add_file(path or f"/{name}", DATA / name, **kwargs)


def oracle(content: bytes) -> list[tuple[str, str]]:
    """(title, link) of each entry as feedparser sees it, for entries that have both."""
    entries = feedparser.parse(io.BytesIO(content)).entries
    return [
        (" ".join(e.title.split()), e.link) for e in entries if e.get("title") and e.get("link")
    ]


# -- our samples -----------------------------------------------------------------------------


def test_korean_rss_and_atom(local_server: LocalServer) -> None:
    rss = serve(local_server, "korean_rss.xml", content_type="application/rss+xml; charset=utf-8")
    atom = serve(local_server, "korean_atom.xml", content_type="application/atom+xml")
    items, warnings = fetch(source(rss, atom))

    # Two RSS entries lack a link or a title: skipped, and counted in one warning.
    assert warnings == [(f"feed {rss}: skipped 2 entries without a link or title", rss)]
    assert [i.title for i in items] == [
        '삼성전자, HBM4 양산 개시 — "AI 반도체" 경쟁 본격화',
        "네이버, 초대규모 AI <하이퍼클로바X> 새 버전 공개",
        "요약이 비어 있는 기사",
        "Rust로 다시 쓴 검색 엔진",
        "HTML 제목과 상대 링크",
    ]
    hbm4, _, _, rust, _ = items
    # The relative link resolves against the URL the feed was fetched from.
    assert hbm4.url == f"{local_server.url}/articles/2026/02/hbm4?ref=rss&page=1"
    assert (hbm4.kind, hbm4.publisher) == ("article", "테크 뉴스 & 분석")
    assert hbm4.published == dt.datetime(2026, 2, 14, 0, 30, tzinfo=dt.UTC)
    assert hbm4.authors == ["김기자"] and hbm4.tags == ["반도체", "AI"]
    assert hbm4.image == "https://img.example.kr/hbm4.jpg"
    assert hbm4.links == {"comments": "https://news.example.kr/articles/2026/02/hbm4#comments"}
    assert hbm4.extra == {"feed": rss}
    assert "<b>HBM4</b>" in hbm4.summary

    assert rust.url == "https://blog.example.kr/posts/rust-search"  # xml:base
    assert rust.publisher == "개발 블로그 기술"
    assert rust.authors == ["이개발", "최리뷰"]
    assert rust.links == {"comments": "https://blog.example.kr/posts/rust-search#comments"}
    assert rust.extra == {"feed": atom}


def test_feed_names_kinds_and_limits(local_server: LocalServer) -> None:
    rss = serve(local_server, "korean_rss.xml")
    atom = serve(local_server, "korean_atom.xml")
    items, _ = fetch(
        source({"url": rss, "name": "예제 뉴스", "kind": "discussion"}, atom, max_items_per_feed=1)
    )
    assert [(i.publisher, i.kind) for i in items] == [
        ("예제 뉴스", "discussion"),
        ("개발 블로그 기술", "article"),
    ]

    items, _ = fetch(source(rss, atom, kind="discussion", publisher="Override"))
    assert {(i.publisher, i.kind) for i in items} == {("Override", "discussion")}


def test_feed_without_dates(local_server: LocalServer) -> None:
    items, warnings = fetch(source(serve(local_server, "no_dates.xml")))
    assert [i.title for i in items] == ["First undated post", "Second undated post"]
    assert all(i.published is None for i in items) and warnings == []


def test_rdf_json_and_euc_kr_feeds(local_server: LocalServer) -> None:
    urls = [serve(local_server, name) for name in ("rss1.xml", "feed.json", "euc-kr.xml")]
    items, warnings = fetch(source(*urls))
    assert [i.title for i in items] == [
        "An RSS 1.0 item",
        "첫 번째 글",
        "한글 제목이 깨지지 않아야 한다",
    ]
    assert items[1].publisher == "JSON 피드"
    # The JSON Feed's second item has no title.
    assert warnings == [(f"feed {urls[1]}: skipped 1 entry without a link or title", urls[1])]


def parse_results(cache_dir: Path) -> list[bytes]:
    """The parse results in the cache file, as stored."""
    with sqlite3.connect(cache_dir / "cache.sqlite") as db:
        rows = [bytes(row[0]) for row in db.execute("SELECT data FROM results")]
    db.close()
    return rows


def test_conditional_get_reuses_the_cached_feed(local_server: LocalServer, tmp_path: Path) -> None:
    url = serve(local_server, "korean_atom.xml", etag=True)
    src = source(url)

    first = run_source(src, language="ko", now=NOW, cache_dir=tmp_path).items
    second = run_source(src, language="ko", now=NOW, cache_dir=tmp_path).items
    assert first == second and len(first) == 2  # the parsed items come back exactly
    assert local_server.hits("/korean_atom.xml") == 2
    assert local_server.requests[-1].headers.get("If-None-Match")
    # The second run read the parse of the unchanged body instead of parsing it again.
    assert len(parse_results(tmp_path)) == 1


def test_parse_results_depend_on_the_options(local_server: LocalServer, tmp_path: Path) -> None:
    url = serve(local_server, "korean_atom.xml", etag=True)
    run_source(source(url), now=NOW, cache_dir=tmp_path)
    items = run_source(source(url, kind="discussion"), now=NOW, cache_dir=tmp_path).items
    assert {i.kind for i in items} == {"discussion"}
    assert len(parse_results(tmp_path)) == 2


# -- captured real feeds ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        (REDDIT, "discussion"),
        ("reddit/feed-rs_atom_mediarss_reddit_1.xml", "discussion"),
        (HN, "discussion"),
        (PRODUCTHUNT, "article"),
    ],
    ids=["reddit-top", "reddit-homelab", "hackernews", "producthunt"],
)
def test_captured_feeds_match_feedparser(
    local_server: LocalServer, shared_fixtures: Path, path: str, kind: str
) -> None:
    file = shared_fixtures / path
    url = local_server.add_file("/feed", file)
    items, warnings = fetch(source(url, kind=kind))
    expected = oracle(file.read_bytes())
    assert warnings == [] and len(items) == len(expected) > 0
    assert [(i.title, i.url) for i in items] == expected
    assert all(i.kind == kind and i.published is not None for i in items)


def test_reddit_and_hacker_news_details(local_server: LocalServer, shared_fixtures: Path) -> None:
    reddit = local_server.add_file("/reddit.rss", shared_fixtures / REDDIT)
    hn = local_server.add_file("/hn.xml", shared_fixtures / HN)
    items, _ = fetch(source(reddit, hn, kind="discussion"))
    post = items[0]
    assert post.title == "So... anyone copped one of these?"
    assert post.url == (
        "https://www.reddit.com/r/LocalLLaMA/comments/1up9x38/so_anyone_copped_one_of_these/"
    )
    assert post.publisher == "top scoring links : LocalLLaMA"
    assert post.authors == ["/u/entsnack"] and post.tags == ["LocalLLaMA"]
    assert post.image and post.image.startswith("https://preview.redd.it/1lvhb6ciaobh1.jpeg")
    assert post.published == dt.datetime(2026, 7, 6, 20, 55, 8, tzinfo=dt.UTC)

    story = next(i for i in items if i.extra["feed"] == hn)
    assert story.title.startswith("Uber finds one allegedly stolen Waymo file")
    assert story.publisher == "Hacker News: Newest"
    assert story.links == {"comments": "https://news.ycombinator.com/item?id=14044517"}
    assert story.authors == ["folz"]


def test_news_fixtures_over_http(local_server: LocalServer, shared_fixtures: Path) -> None:
    """Every captured news/ feed at once: titles and links as feedparser sees them."""
    files = sorted(p for p in (shared_fixtures / "news").rglob("*") if p.is_file())
    urls = {local_server.add_file(f"/news/{p.name}", p): p for p in files}
    items, warnings = fetch(source(*urls, max_items_per_feed=1000))
    by_feed: dict[str, list[tuple[str, str]]] = {}
    for item in items:
        by_feed.setdefault(item.extra["feed"], []).append((item.title, item.url))
    for url, file in urls.items():
        if file.suffix == ".json":  # JSON Feed: feedparser 6.0 cannot read it
            assert len(by_feed[url]) == 3
            continue
        assert by_feed.get(url, []) == oracle(file.read_bytes()), file.name
    # The Fastmail status feed has no links at all; the truncated feed-rs sample parses, empty.
    said = {urls[url].name: message for message, url in warnings}
    assert set(said) == {"fastmailstatus_feed.rss", "rss_2.0_invalid_1.xml"}
    assert said["fastmailstatus_feed.rss"].endswith("skipped 10 entries without a link or title")
    assert said["rss_2.0_invalid_1.xml"].endswith("has no entries")


# -- failures --------------------------------------------------------------------------------


@functools.cache
def gzip_bomb() -> bytes:
    """50 MB of spaces, compressed to about 50 KB."""
    return gzip.compress(b"<rss>" + b" " * (50 * MB), compresslevel=9)


def _fail_500(server: LocalServer) -> str:
    return server.add("/bad", b"oops", status=500, content_type="text/plain")


def _fail_404(server: LocalServer) -> str:
    return server.url + "/missing.xml"


def _html_page(server: LocalServer) -> str:
    return server.add_file("/bad", DATA / "not_a_feed.html", content_type="text/html")


def _not_xml(server: LocalServer) -> str:
    return server.add("/bad", b"Rate limited, try again in 5 minutes.", content_type="text/plain")


def _gzip_bomb(server: LocalServer) -> str:
    return server.add("/bad", gzip_bomb(), headers={"Content-Encoding": "gzip"})


def _huge(server: LocalServer) -> str:
    return server.add("/bad", b"<rss>" + b"x" * (50 * MB))


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_fail_500, "HTTP 500 Internal Server Error"),
        (_fail_404, "HTTP 404 Not Found"),
        (_html_page, "got an HTML page, not a feed"),
        (_not_xml, "not a feed"),
        (_gzip_bomb, "larger than 10 MB (after decompression)"),
        (_huge, "larger than 10 MB"),
    ],
    ids=["500", "404", "html", "not-xml", "gzip-bomb", "50MB"],
)
def test_a_failing_feed_is_one_warning(
    local_server: LocalServer, make: object, reason: str
) -> None:
    good = serve(local_server, "no_dates.xml")
    bad = make(local_server)  # type: ignore[operator]
    items, warnings = fetch(source(good, bad))
    assert [i.title for i in items] == ["First undated post", "Second undated post"]
    [(message, url)] = warnings
    assert url == bad
    assert message.startswith(f"feed {bad}: ") and reason in message
    assert "\n" not in message and "Traceback" not in message and len(message) < 400


def test_broken_feed_among_good_ones(local_server: LocalServer) -> None:
    good = [serve(local_server, "korean_atom.xml"), serve(local_server, "entities.xml")]
    broken = local_server.add("/broken.xml", b"\x00\x01garbage<<<>>>\xff" * 10)
    items, warnings = fetch(source(good[0], broken, good[1]))
    assert {i.extra["feed"] for i in items} == set(good) and len(items) == 4
    assert [url for _, url in warnings] == [broken]
    assert warnings[0][0].startswith(f"feed {broken}: not a feed")


def test_truncated_feed_still_gives_its_entries(local_server: LocalServer) -> None:
    content = (DATA / "korean_rss.xml").read_bytes()
    url = local_server.add("/truncated.rss", content[: content.index(b"<item>", 1500)])
    items, warnings = fetch(source(url))
    assert [i.title for i in items][:1] == ['삼성전자, HBM4 양산 개시 — "AI 반도체" 경쟁 본격화']
    assert warnings == []


def test_every_feed_failing_is_a_source_error(local_server: LocalServer) -> None:
    bad = [
        _fail_500(local_server),
        _fail_404(local_server),
        local_server.add("/page", b"<html><body>hi</body></html>", content_type="text/html"),
    ]
    with pytest.raises(SourceError) as caught:
        fetch(source(*bad))
    message = caught.value.message
    assert message.startswith("all 3 feeds failed: ")
    reasons = ["HTTP 500", "HTTP 404", "got an HTML page"]
    for url, reason in zip(bad, reasons, strict=True):
        assert f"{url}: {reason}" in message
    assert "\n" not in message


def test_a_single_failing_feed_is_a_source_error(local_server: LocalServer) -> None:
    url = _fail_500(local_server)
    with pytest.raises(SourceError) as caught:
        fetch(source(url))
    assert caught.value.message == "the feed failed: HTTP 500 Internal Server Error"
    assert caught.value.url == url


def test_unreachable_host(local_server: LocalServer) -> None:
    good = serve(local_server, "no_dates.xml")
    closed = "http://127.0.0.1:9/feed.xml"  # the discard port: nothing listens there
    items, warnings = fetch(source(good, closed))
    assert len(items) == 2
    [(message, url)] = warnings
    assert url == closed and "cannot connect" in message


def test_feeds_are_fetched_concurrently(local_server: LocalServer) -> None:
    urls = [
        local_server.add_file(f"/slow{n}.rss", DATA / "no_dates.xml", delay=0.5) for n in range(6)
    ]
    start = time.perf_counter()
    items, _ = fetch(source(*urls))
    assert len(items) == 12
    assert time.perf_counter() - start < 2.5  # one after another would take 3 s


# -- options and registration -----------------------------------------------------------------


def test_options() -> None:
    opts = NewsSource.Options(
        feeds=[
            "https://a.example/feed",
            {"url": "https://b.example/rss", "name": "B", "kind": "discussion"},
        ]
    )
    assert [(f.url, f.name, f.kind) for f in opts.feeds] == [
        ("https://a.example/feed", None, None),
        ("https://b.example/rss", "B", "discussion"),
    ]
    assert (opts.kind, opts.max_items_per_feed, opts.publisher) == ("article", 50, None)
    for bad in (
        {"feeds": []},
        {"feeds": ["ftp://x.example/feed"]},
        {"feeds": ["not a url"]},
        {"feeds": [{"url": "https://x.example", "colour": "red"}]},
        {"feeds": ["https://x.example"], "max_items_per_feed": 0},
    ):
        with pytest.raises(ValidationError):
            NewsSource.Options(**bad)  # type: ignore[arg-type]


def test_registered_as_a_plugin(plugin_manager: object) -> None:
    registration = plugin_manager.sources.get("news")  # type: ignore[attr-defined]
    assert registration is not None and registration.cls is NewsSource
    assert NewsSource.kind == "article"


def test_a_damaged_parse_result_is_parsed_again(local_server: LocalServer, tmp_path: Path) -> None:
    url = serve(local_server, "korean_atom.xml", etag=True)
    first = run_source(source(url), language="ko", now=NOW, cache_dir=tmp_path).items
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:  # cut short and wrongly typed
        db.execute("UPDATE results SET data = ?", (b'{"items": [{"url": 1}]',))
    db.close()
    again = run_source(source(url), language="ko", now=NOW, cache_dir=tmp_path).items
    assert again == first
    (entry,) = parse_results(tmp_path)
    assert entry.startswith(b'{"items":[{')  # rewritten whole
