"""Canonical URLs: the identity of an item across feeds."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from newsroom.core.urls import (
    SAFE_SCHEMES,
    _canonical,
    _canonical_fast,
    _only_tracking,
    _safe_fast,
    canonical_url,
    is_safe_url,
    is_tracking_param,
)

ODD = [
    "HTTPS://WWW.Example.COM/a/b/?utm_source=x&b=2&a=1#frag",
    "http://example.com",
    "https://example.com/?",
    "https://ex.com//",
    "https://ex.com/a//",
    "http://ex.com:80/x",
    "https://ex.com:8443/x",
    "https://user@ex.com/x",
    "https://ex.com/%7Euser",
    "https://한국.kr/경로?q=값",
    "https://ex.com/a?b=1&b=0&utm_medium=z",
    "https://ex.com?x=1#a",
    "https://ex.com#x",
    "https://[::1]/x",
    " https://ex.com/padded ",
    "https://ex.com/a?x=%20y+z",
]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "https://www.example.com/story?utm_source=rss&utm_medium=feed",
            "http://example.com/story",
        ),
        ("https://example.com/story/", "https://EXAMPLE.com/story#comments"),
        ("https://example.com/p?b=2&a=1&fbclid=xyz", "https://example.com/p?a=1&b=2"),
    ],
)
def test_same_page_same_canonical_url(a: str, b: str) -> None:
    assert canonical_url(a) == canonical_url(b)


def test_different_pages_stay_different() -> None:
    assert canonical_url("https://example.com/p?id=1") != canonical_url(
        "https://example.com/p?id=2"
    )
    assert canonical_url("https://example.com:8443/p") != canonical_url("https://example.com/p")


def fixture_urls(shared_fixtures: Path) -> set[str]:
    urls = set(ODD)
    for path in shared_fixtures.rglob("*"):
        if path.is_file() and path.stat().st_size < 3_000_000:
            text = path.read_text("utf-8", "replace")
            urls.update(m.group(0) for m in re.finditer(r"https?://[^\s\"<>')]+", text))
    assert len(urls) > 1000
    return urls


def test_fast_path_equals_general_path(shared_fixtures: Path) -> None:
    urls = fixture_urls(shared_fixtures)
    fast = 0
    for url in urls:
        result = _canonical_fast(url.strip())
        if result is not None:
            fast += 1
            assert result == _canonical(url.strip()), url
    assert fast > len(urls) * 0.8  # the fast path covers the common case


def test_safe_urls() -> None:
    assert is_safe_url("https://example.com/x")
    for bad in ("javascript:alert(1)", "data:text/html,x", "/relative", "", None, "ftp://x/y"):
        assert not is_safe_url(bad)


def test_malformed_urls_never_raise() -> None:
    for url in ("https://example.org:99999/b", "https://[::1/x", "http://[bad]/", "https://"):
        assert isinstance(canonical_url(url), str)


QUERIES = [
    "utm_source=rss",
    "utm_source=rss&utm_medium=feed&fbclid=x",
    "&&utm_source=rss&",
    "utm_source",
    "UTM_Source=a&Ref=b",
    "utm_source=a&id=1",
    "id=1",
    "utm%5Fsource=a",
    "utm_source=a+b",
    "=x",
    "",
]


def test_tracking_only_queries_are_recognised_as_the_full_parser_reads_them(
    shared_fixtures: Path,
) -> None:
    queries = set(QUERIES)
    for url in fixture_urls(shared_fixtures):
        queries.add(url.partition("?")[2].partition("#")[0])
    shortcut = 0
    for query in queries:
        if _only_tracking(query):
            shortcut += 1
            kept = [k for k, _ in parse_qsl(query, keep_blank_values=True)]
            assert not [k for k in kept if not is_tracking_param(k)], query
    assert shortcut >= 5


def test_safe_url_fast_path_equals_urlsplit(shared_fixtures: Path) -> None:
    urls = fixture_urls(shared_fixtures) | {
        "http://",
        "https:///path",
        "https://?q",
        "https://#f",
        "HTTPS://EX.COM",
        "http://ex.com\tx",
        "http://[::1]/x",
        "javascript:alert('http://x')",
        "http:/ex.com",
        "http://user:pw@ex.com:99999/x",
        "https://ex.com\\evil",
    }
    fast = 0
    for raw in urls:
        url = raw.strip()
        result = _safe_fast(url)
        try:
            parts = urlsplit(url)
            expected = parts.scheme.lower() in SAFE_SCHEMES and bool(parts.netloc)
        except ValueError:
            assert result is None, url  # left to urlsplit, which raises as before
            continue
        if result is not None:
            fast += 1
            assert result == expected, url
        assert is_safe_url(raw) == expected, url
    assert fast > len(urls) * 0.8
