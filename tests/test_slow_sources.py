"""Feeds that fail slowly or hugely, served by a real server on 127.0.0.1: a body dripping in
a byte at a time, 60 MB, a gzip bomb, an HTML page, 404 and 500. Each costs its source at
most the source's deadline (every request and retry included), is reported with its source
and URL, and the build keeps the good items."""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Callable

import pytest

from newsroom.collect.http import MB
from newsroom.curate.pipeline import BuildResult
from newsroom.testing import LocalServer

NOW = dt.datetime(2026, 2, 14, 6, tzinfo=dt.UTC)
SECTION = '[[sections]]\nid = "all"\ntitle = "All"\nlimit = 50\n'


def rss(*titles: str) -> str:
    items = "".join(
        f"<item><title>{t}</title><link>https://news.example/{n}-{len(t)}</link>"
        "<pubDate>Sat, 14 Feb 2026 05:00:00 GMT</pubDate></item>"
        for n, t in enumerate(titles)
    )
    channel = f"<channel><title>T</title>{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def sources(*pairs: tuple[str, list[str]]) -> str:
    """``[[sources]]`` tables of the news plugin: (name, feed URLs)."""
    return "".join(
        f'[[sources]]\nname = "{name}"\nplugin = "news"\nfeeds = {feeds!r}\n'.replace("'", '"')
        for name, feeds in pairs
    )


@pytest.fixture(scope="module")
def bad_feeds() -> dict[str, bytes]:
    return {
        # 50 MB of zeros in 50 KB: refused at the size limit, never inflated.
        "bomb": gzip.compress(b"\0" * (50 * MB), compresslevel=9),
        "big": b"<rss>" + b" " * (60 * MB) + b"</rss>",
    }


def test_a_build_beside_six_bad_sources_keeps_the_good_items_and_names_each_bad_one(
    local_server: LocalServer,
    build_edition: Callable[..., BuildResult],
    bad_feeds: dict[str, bytes],
) -> None:
    server = local_server
    feeds = {
        "good": server.add("/good.xml", rss("first good story", "second good story")),
        "drip": server.add("/drip.xml", rss("never arrives"), drip=1.0),
        "big": server.add("/big.xml", bad_feeds["big"]),
        "bomb": server.add("/bomb.xml", bad_feeds["bomb"], headers={"Content-Encoding": "gzip"}),
        "page": server.add(
            "/page.html",
            "<!doctype html><html><body><h1>Our news</h1></body></html>",
            content_type="text/html; charset=utf-8",
        ),
        "gone": server.url + "/gone.xml",
        "broken": server.add("/broken.xml", "internal error", status=500),
    }
    result = build_edition(
        # Shortened from the defaults (45 s, 1 s) so the test takes seconds.
        "[plugins]\nsource_timeout = 4\n[http]\nbackoff = 0.1\n"
        + sources(*((name, [url]) for name, url in feeds.items()))
        + SECTION,
        now=NOW,
    )
    assert [i.title for i in result.edition.items] == ["first good story", "second good story"]
    warned = {w.source: w for w in result.warnings}
    assert set(warned) == set(feeds) - {"good"}
    for name, warning in warned.items():
        # The feed's own failure, with its URL: not the whole source cut off unexplained.
        assert warning.url == feeds[name], (name, warning.message)
    assert "when the source's 3.6 s for its requests ran out" in warned["drip"].message
    assert "larger than 10 MB" in warned["big"].message
    assert "after decompression" in warned["bomb"].message
    assert "HTTP 404" in warned["gone"].message
    assert "HTTP 500" in warned["broken"].message
    assert server.hits("/drip.xml") == 1
    assert server.hits("/broken.xml") == 4  # retried, within the source's time


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ({"body": rss("never arrives"), "drip": 1.0}, "for its requests ran out"),
        # 10 retries, waiting 1, 2, 4 ... s: far more than the source has.
        ({"body": "busy", "status": 503}, "HTTP 503"),
    ],
    ids=["drip", "retries"],
)
def test_one_slow_feed_costs_its_source_the_deadline_not_the_other_feeds(
    local_server: LocalServer,
    build_edition: Callable[..., BuildResult],
    route: dict[str, object],
    expected: str,
) -> None:
    good = local_server.add("/good.xml", rss("good story"))
    slow = local_server.add("/slow.xml", **route)  # type: ignore[arg-type]
    result = build_edition(
        "[plugins]\nsource_timeout = 3\n[http]\nretries = 10\nbackoff = 1\n"
        + sources(("news", [slow, good]))
        + SECTION,
        now=NOW,
    )
    # Before, the whole source was cut off at its timeout and the good feed's items with it.
    assert [i.title for i in result.edition.items] == ["good story"]
    (warning,) = result.warnings
    assert (warning.source, warning.url) == ("news", slow)
    assert warning.message.startswith(f"feed {slow}: ")
    assert expected in warning.message
