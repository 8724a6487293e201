"""feedparser's own test corpus (shared fixtures, feed-corpus/): well-formed, ill-formed, odd
encodings, entities. Every file must give entries or a FeedError, never anything else; where a
file's ``Expect:`` line states the first entry's title or link, we must agree."""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path
from urllib.parse import urljoin

from newsroom_news import NewsSource

from newsroom.collect.feeds import FeedError, ParsedFeed, parse_feed
from newsroom.core.sanitize import clean_text
from newsroom.testing import LocalServer, run_source

# feedparser's test server: its Expect lines resolve relative URLs against this address.
TEST_HOST = "http://127.0.0.1:8097/tests/"
HEADER = re.compile(r"^\s*Header:\s*([\w-]+):\s*(.*?)\s*$", re.M)
EXPECT = re.compile(r"^\s*Expect:\s*(.*?)\s*$", re.M)
# entries[0]['title'] == ..., entries[0].link == entries[1].link == ...
FIRST_ENTRY = re.compile(
    r"entries\[0\](?:\['(title|link)'\]|\.(title|link))\s*==\s*"
    r"(?:entries\[1\]\S+\s*==\s*)?(u?'(?:[^'\\]|\\.)*')"
)


def corpus(fixtures: Path) -> list[Path]:
    return sorted(p for p in (fixtures / "feed-corpus").rglob("*") if p.is_file())


def headers(content: bytes) -> dict[str, str]:
    """The HTTP headers a corpus file asks to be served with (``Header:`` lines)."""
    head = content[:2000].decode("utf-8", "replace")
    return {name.lower(): value for name, value in HEADER.findall(head)}


def parse_file(path: Path, root: Path) -> ParsedFeed:
    content = path.read_bytes()
    url = TEST_HOST + path.relative_to(root).as_posix()
    sent = headers(content)
    if "content-location" in sent:
        url = urljoin(url, sent["content-location"])
    return parse_feed(content, url=url, content_type=sent.get("content-type"))


def test_every_file_gives_entries_or_a_feed_error(shared_fixtures: Path) -> None:
    root = shared_fixtures / "feed-corpus"
    files = corpus(shared_fixtures)
    assert len(files) == 308
    outcomes: dict[str, int] = {"fast": 0, "feedparser": 0, "FeedError": 0}
    for path in files:
        try:
            feed = parse_file(path, root)
        except FeedError as exc:
            assert "\n" not in str(exc) and str(exc), path
            outcomes["FeedError"] += 1
            continue
        outcomes[feed.parser] += 1
        for entry in feed.entries:
            assert isinstance(entry.title, str) and isinstance(entry.summary, str)
            assert entry.published is None or entry.published.utcoffset() == dt.timedelta(0)
    print(f"\nfeed-corpus: {outcomes}")
    assert outcomes["fast"] > 100


def test_first_entry_title_and_link_agree_with_expect_lines(shared_fixtures: Path) -> None:
    root = shared_fixtures / "feed-corpus"
    checked, disagreements = 0, []
    for path in corpus(shared_fixtures):
        content = path.read_bytes()
        expect = EXPECT.search(content[:2000].decode("utf-8", "replace"))
        if not expect:
            continue
        for field_a, field_b, literal in FIRST_ENTRY.findall(expect.group(1)):
            field = field_a or field_b
            expected = ast.literal_eval(literal)
            entry = parse_file(path, root).entries[0]
            if field == "link":
                ok = entry.link == expected
            else:  # ours is plain text; feedparser's may be HTML
                ok = entry.title in (clean_text(expected), " ".join(expected.split()))
            checked += 1
            if not ok:
                disagreements.append(
                    f"{path.name}: {field} {getattr(entry, field)!r} != {expected!r}"
                )
    print(f"\nExpect lines checked: {checked}")
    assert checked == 18
    assert disagreements == []


def serve_corpus(server: LocalServer, fixtures: Path) -> list[str]:
    """Serve every corpus file with the headers it asks for; their URLs, in order."""
    root = fixtures / "feed-corpus"
    urls = []
    for n, path in enumerate(corpus(fixtures)):
        content = path.read_bytes()
        sent = headers(content)
        extra = {k: v for k, v in sent.items() if k in ("etag", "last-modified", "x-foo")}
        urls.append(
            server.add(
                f"/{n}/{path.relative_to(root).as_posix()}",
                content,
                content_type=sent.get("content-type", "application/xml"),
                headers=extra,
            )
        )
    return urls


def test_every_file_through_the_news_source(
    local_server: LocalServer, shared_fixtures: Path
) -> None:
    """Every corpus file, served over HTTP with its own headers, through one news source:
    each gives items or a one-line warning naming its URL, never a traceback."""
    files = corpus(shared_fixtures)
    urls = serve_corpus(local_server, shared_fixtures)
    src = NewsSource(NewsSource.Options(feeds=urls), instance="corpus")
    run = run_source(src, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    fed = {item.extra["feed"] for item in run.items}
    warned = {url for _, url in run.warnings}
    silent = [url for url in urls if url not in fed and url not in warned]
    assert not silent, f"{len(silent)} files gave neither items nor a warning: {silent[:5]}"
    for message, _ in run.warnings:
        assert "\n" not in message and "Traceback" not in message
    print(f"\n{len(files)} files: {len(fed)} gave items, {len(warned)} a warning")
