"""newsroom.collect.feeds: the lxml fast path must read feeds exactly as the feedparser path does.

The captured real feeds in the shared fixtures are the oracle: wherever the fast path accepts a
file, its result must equal the feedparser path's on title, link, dates, summary and authors.
Our own small samples (tests/data/feeds) cover Korean text, relative links, CDATA, entities and
missing dates, and the documents that are not feeds at all.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import time
from pathlib import Path

import feedparser
import pytest

from newsroom.collect.feeds import FastPathDeclined, FeedError, ParsedFeed, parse_date, parse_feed
from newsroom.core.sanitize import clean_html, clean_text

DATA = Path(__file__).parent / "data" / "feeds"
BASE = "https://feeds.example.com/dir/feed.xml"
UTC = dt.UTC


def parse(name: str, **kwargs: object) -> ParsedFeed:
    return parse_feed((DATA / name).read_bytes(), url=BASE, **kwargs)  # type: ignore[arg-type]


def captured_feeds(fixtures: Path) -> list[Path]:
    """The captured real feeds the equality test runs on (JSON API responses left out)."""
    files = [p for p in (fixtures / "news").rglob("*") if p.is_file()]
    files += (fixtures / "reddit").glob("*.xml")
    files += (fixtures / "hackernews").glob("*.xml")
    files += (fixtures / "producthunt").glob("*")
    files += (fixtures / "arxiv").rglob("*.xml")
    files += (fixtures / "feed-corpus" / "wellformed").rglob("*")
    # JSON Feed takes the same code whichever parser is asked for: nothing to compare.
    return sorted(p for p in files if p.is_file() and p.suffix != ".json")


def html_norm(value: str) -> str:
    return " ".join(str(clean_html(value)).split())


def differences(fast: ParsedFeed, slow: ParsedFeed) -> list[str]:
    """Where the two parses disagree on what the news source uses."""
    found = []
    if clean_text(fast.title) != clean_text(slow.title):
        found.append(f"feed title {fast.title!r} != {slow.title!r}")
    if fast.link != slow.link:
        found.append(f"feed link {fast.link!r} != {slow.link!r}")
    if len(fast.entries) != len(slow.entries):
        found.append(f"{len(fast.entries)} entries != {len(slow.entries)}")
    for n, (a, b) in enumerate(zip(fast.entries, slow.entries, strict=False)):
        pairs = {
            "title": (clean_text(a.title), clean_text(b.title)),
            "link": (a.link, b.link),
            "published": (a.published, b.published),
            "updated": (a.updated, b.updated),
            "summary": (html_norm(a.summary), html_norm(b.summary)),
            "authors": ([clean_text(x) for x in a.authors], [clean_text(x) for x in b.authors]),
        }
        found += [f"entry {n} {k}: {x!r} != {y!r}" for k, (x, y) in pairs.items() if x != y]
    return found


# -- the fast path against feedparser on real feeds --------------------------------------------


def test_fast_path_equals_feedparser_on_captured_feeds(shared_fixtures: Path) -> None:
    files = captured_feeds(shared_fixtures)
    assert len(files) > 200
    compared, declined, not_feeds, failures = [], [], [], []
    for path in files:
        content = path.read_bytes()
        url = f"http://127.0.0.1:8097/{path.name}"
        try:
            fast = parse_feed(content, url=url, parser="fast")
        except FastPathDeclined as exc:
            declined.append(f"{path.relative_to(shared_fixtures)}: {exc}")
            continue
        except FeedError:
            not_feeds.append(path.name)
            with pytest.raises(FeedError):
                parse_feed(content, url=url, parser="feedparser")
            continue
        slow = parse_feed(content, url=url, parser="feedparser")
        if problems := differences(fast, slow):
            failures.append(f"{path.relative_to(shared_fixtures)}: " + "; ".join(problems[:3]))
        compared.append(path)
        assert parse_feed(content, url=url).parser == "fast"  # auto takes the fast path
    assert failures == []
    # Declining is fine, but only for a minority: the odd dialects and constructs.
    assert len(declined) < len(files) * 0.4, declined
    print(
        f"\ncompared {len(compared)}, declined {len(declined)}, not feeds {len(not_feeds)} "
        f"of {len(files)} files"
    )


def test_real_news_feeds_take_the_fast_path(shared_fixtures: Path) -> None:
    """Every well-formed captured feed from a real site is read by the fast path."""
    real = [p for p in captured_feeds(shared_fixtures) if "feed-corpus" not in p.parts]
    slow = []
    for path in real:
        result = parse_feed(path.read_bytes(), url="https://example.com/feed")
        if result.parser != "fast":
            slow.append(path.name)
    # rss_2.0_invalid_1.xml is a truncated feed, kept in feed-rs's corpus on purpose.
    assert slow == ["rss_2.0_invalid_1.xml"]


# Constructs real feeds mix, inserted at random into captured feeds: both paths must still agree
# (several titles or summaries competing, relative links, text and Atom authors side by side).
SNIPPETS = [
    b"<title>Second &amp; title</title>",
    b'<title type="html">&lt;i&gt;H&lt;/i&gt;</title>',
    b"<title></title>",
    b"<dc:title>DC title</dc:title>",
    b"<media:title>Media title</media:title>",
    b"<description>&lt;p&gt;desc&lt;/p&gt;</description>",
    b"<description></description>",
    b"<summary>plain &lt; summary</summary>",
    b'<summary type="html">&lt;b&gt;s&lt;/b&gt;</summary>',
    b'<content type="html">&lt;p&gt;c&lt;/p&gt;</content>',
    b"<content>plain content</content>",
    b'<content:encoded><![CDATA[<p>enc <a href="rel/x">r</a></p>]]></content:encoded>',
    b"<itunes:summary>itunes sum</itunes:summary>",
    b"<dc:description>dcd</dc:description>",
    b'<media:group><media:description>md</media:description><media:thumbnail url="t.jpg"/>'
    b"</media:group>",
    b"<link>relative/link</link>",
    b'<link rel="alternate" type="text/html" href="alt"/>',
    b'<link rel="alternate" href="http://a.example/x?y=1&amp;z=2"/>',
    b'<link href=""/>',
    b'<link rel="enclosure" type="image/png" href="i.png"/>',
    b'<atom:link href="/abs"/>',
    b"<guid>g-1</guid>",
    b'<guid isPermaLink="false">http://x.example/g</guid>',
    b"<id>tag:x,2000:1</id>",
    b"<id>relative-id</id>",
    b'<link href="http://[::1"/>',
    b"<pubDate>Mon, 02 Mar 2026 10:00:00 +0100</pubDate>",
    b"<pubDate>not a date</pubDate>",
    b"<published>2026-03-02T10:00:00+01:00</published>",
    b"<updated>2026-03-03</updated>",
    b"<dc:date>2026-03-04T00:00:00Z</dc:date>",
    b"<issued>2026-03-06</issued>",
    b"<author>jo@example.com (Jo Kim)</author>",
    b"<author>noname@example.com</author>",
    b"<author><name>Ann</name><email>a@x</email></author>",
    b"<dc:creator>Kim, Lee</dc:creator>",
    b"<itunes:author>Pod</itunes:author>",
    b"<title>caf\xc3\x83\xc2\xa9 mojibake</title>",
    b"<description>don&#x92;t</description>",
    b"<abstract>abs</abstract>",
]
NAMESPACES = {
    b"media": b"http://search.yahoo.com/mrss/",
    b"dc": b"http://purl.org/dc/elements/1.1/",
    b"content": b"http://purl.org/rss/1.0/modules/content/",
    b"itunes": b"http://www.itunes.com/dtds/podcast-1.0.dtd",
    b"atom": b"http://www.w3.org/2005/Atom",
}


def with_namespaces(content: bytes) -> bytes:
    """Declare on the root element the prefixes the snippets use."""
    root = min(i for i in (content.find(b"<rss"), content.find(b"<feed")) if i != -1)
    end = content.index(b">", root)
    declared = content[root:end]
    extra = b"".join(
        b' xmlns:%s="%s"' % (p, u)
        for p, u in NAMESPACES.items()
        if b"xmlns:" + p + b"=" not in declared
    )
    return content[:end] + extra + content[end:]


def test_paths_agree_on_mutated_feeds(shared_fixtures: Path) -> None:
    import random

    rng = random.Random(7)
    feeds = [
        p
        for p in captured_feeds(shared_fixtures)
        if "feed-corpus" not in p.parts
        and p.stat().st_size < 30_000
        and (b"<item>" in p.read_bytes() or b"<entry>" in p.read_bytes())
    ]
    compared = 0
    for round_ in range(300):
        content = with_namespaces(feeds[round_ % len(feeds)].read_bytes())
        tag = b"<item>" if b"<item>" in content else b"<entry>"
        starts = [m.end() for m in re.finditer(re.escape(tag), content)]
        at = rng.choice(starts)
        inserted = b"".join(rng.choice(SNIPPETS) for _ in range(rng.randint(1, 4)))
        mutated = content[:at] + inserted + content[at:]
        try:
            fast = parse_feed(mutated, url=BASE, parser="fast")
        except FastPathDeclined:
            continue
        slow = parse_feed(mutated, url=BASE, parser="feedparser")
        assert differences(fast, slow) == [], inserted
        compared += 1
    assert compared > 250


def test_dates_agree_with_feedparser(shared_fixtures: Path) -> None:
    """Our date parser gives feedparser's answer wherever feedparser has one."""
    checked = 0
    for path in captured_feeds(shared_fixtures):
        result = feedparser.parse(io.BytesIO(path.read_bytes()))
        for entry in result.entries:
            for key in ("published", "updated"):
                raw, parsed = dict.get(entry, key), dict.get(entry, f"{key}_parsed")
                if raw and parsed:
                    ours = parse_date(raw)
                    assert ours is not None, raw
                    assert ours.replace(microsecond=0) == dt.datetime(*parsed[:6], tzinfo=UTC), raw
                    checked += 1
    assert checked > 500


def test_fast_path_is_much_faster(shared_fixtures: Path) -> None:
    """A loose guard against regressions (benchmarks/bench_feeds.py measures properly)."""
    content = (
        shared_fixtures
        / "reddit"
        / "ai-weekly-radar_r-LocalLLaMA_top.rss_t-week_2026-07-13.atom.xml"
    ).read_bytes()

    def best(parser: str, rounds: int) -> float:
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            parse_feed(content, url=BASE, parser=parser)  # type: ignore[arg-type]
            times.append(time.perf_counter() - start)
        return min(times)

    assert best("feedparser", 3) > 5 * best("fast", 10)


# -- our own samples -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["korean_rss.xml", "korean_atom.xml", "entities.xml", "no_dates.xml", "rss1.xml", "euc-kr.xml"],
)
def test_samples_parse_the_same_on_both_paths(name: str) -> None:
    fast = parse(name, parser="fast")
    assert fast.parser == "fast"
    assert differences(fast, parse(name, parser="feedparser")) == []


def test_korean_rss() -> None:
    feed = parse("korean_rss.xml")
    assert (feed.title, feed.link) == ("테크 뉴스 & 분석", "https://news.example.kr/")
    assert feed.parser == "fast"
    first, second, third, no_link, no_title = feed.entries

    assert first.title == '삼성전자, HBM4 양산 개시 — "AI 반도체" 경쟁 본격화'
    # A relative link, with its escaped ampersand, resolved against the feed's URL.
    assert first.link == "https://feeds.example.com/articles/2026/02/hbm4?ref=rss&page=1"
    # CDATA HTML kept as HTML, its relative link made absolute the same way.
    assert first.summary == (
        "<p>삼성전자가 <b>HBM4</b> 양산을 시작했다. "
        '<a href="https://feeds.example.com/companies/samsung">회사 정보</a></p>'
    )
    assert first.published == dt.datetime(2026, 2, 14, 0, 30, tzinfo=UTC)  # +0900
    assert first.authors == ["김기자"]
    assert first.tags == ["반도체", "AI"]
    assert first.image == "https://img.example.kr/hbm4.jpg"
    assert first.comments == "https://news.example.kr/articles/2026/02/hbm4#comments"
    assert first.id == "news-example-kr-10231"

    # An escaped title that is not HTML stays as written; "email (name)" gives the name.
    assert second.title == "네이버, 초대규모 AI <하이퍼클로바X> 새 버전 공개"
    assert second.summary == "<p>네이버가 새 모델을 공개했다 &amp; 오픈소스로 풀었다.</p>"
    assert second.published == dt.datetime(2026, 2, 13, 9, 0, tzinfo=UTC)  # "KST"
    assert second.authors == ["박편집"]

    # An empty description gives way to the content; an image enclosure is the image.
    assert third.summary == "<p>본문만 있는 기사입니다.</p>"
    assert third.image == "https://img.example.kr/cover.png"

    assert no_link.link is None and no_link.title == "링크가 없는 항목"
    assert no_title.title == "" and no_title.link is not None


def test_korean_atom_with_xml_base() -> None:
    feed = parse("korean_atom.xml")
    assert feed.title == "개발 블로그 기술"  # type="html": markup dropped
    assert feed.link == "https://blog.example.kr/"
    first, second = feed.entries

    assert first.title == "Rust로 다시 쓴 검색 엔진"
    assert first.link == "https://blog.example.kr/posts/rust-search"
    assert first.comments == "https://blog.example.kr/posts/rust-search#comments"
    assert first.summary == "검색 엔진을 Rust로 옮긴 이야기 &lt;성능 2배&gt;"  # text, escaped
    assert first.published == dt.datetime(2026, 2, 14, 0, 0, tzinfo=UTC)
    assert first.updated == dt.datetime(2026, 2, 14, 1, 30, tzinfo=UTC)
    assert first.authors == ["이개발", "최리뷰"]
    assert first.tags == ["rust", "검색"]
    assert first.id == "tag:blog.example.kr,2026:post-1"

    # The entry's own xml:base applies to its link and to URLs inside its content.
    assert second.title == "HTML 제목과 상대 링크"
    assert second.link == "https://blog.example.kr/2026/02/relative-base"
    assert 'src="https://blog.example.kr/2026/images/chart.png"' in second.summary
    assert second.published == second.updated == dt.datetime(2026, 2, 13, 8, 0, tzinfo=UTC)


def test_entities_and_cdata() -> None:
    first, second = parse("entities.xml").entries
    assert first.title == "AT&T – Q4 results ’26"
    assert first.link == "https://entities.example.com/att?a=1&b=2"
    assert first.summary == "Profits <em>up</em> &amp; costs down"
    assert first.published == dt.datetime(2026, 2, 9, 17, 0, tzinfo=UTC)
    assert second.title == "Use <br> tags & friends"
    assert second.summary == "<ul><li>one</li><li>two &amp; three</li></ul>"
    assert second.published == dt.datetime(2026, 2, 8, 7, 30, tzinfo=UTC)


def test_feed_without_dates() -> None:
    feed = parse("no_dates.xml")
    assert [e.title for e in feed.entries] == ["First undated post", "Second undated post"]
    assert all(e.published is None and e.updated is None for e in feed.entries)
    assert feed.entries[1].summary == ""


def test_rss_1_0() -> None:
    feed = parse("rss1.xml")
    assert feed.parser == "fast"
    [entry] = feed.entries
    assert (entry.title, entry.link, entry.authors, entry.tags) == (
        "An RSS 1.0 item",
        "https://rdf.example.org/a",
        ["Ada"],
        ["rdf"],
    )
    assert entry.published == dt.datetime(2026, 2, 10, 4, 0, tzinfo=UTC)  # dc:date


def test_euc_kr_declared_in_the_prolog() -> None:
    feed = parse("euc-kr.xml", content_type="application/rss+xml")
    assert feed.parser == "fast"
    assert feed.title == "레거시 인코딩 뉴스"
    assert feed.entries[0].title == "한글 제목이 깨지지 않아야 한다"


def test_http_charset_that_contradicts_the_document_goes_to_feedparser() -> None:
    content = (DATA / "euc-kr.xml").read_bytes()
    with pytest.raises(FastPathDeclined, match="charset"):
        parse_feed(content, url=BASE, content_type="text/xml; charset=utf-8", parser="fast")
    assert parse_feed(content, url=BASE, content_type="text/xml; charset=euc-kr").parser == "fast"


def test_json_feed() -> None:
    feed = parse("feed.json")
    assert (feed.title, feed.link) == ("JSON 피드", "https://json.example.com/")
    assert feed.parser == "fast"
    first, second = feed.entries
    assert first.title == "첫 번째 글" and first.link == "https://json.example.com/posts/1"
    assert first.summary == '<p>Hello <a href="https://feeds.example.com/about">about</a></p>'
    assert first.published == dt.datetime(2026, 2, 14, 0, 0, tzinfo=UTC)
    assert (first.authors, first.tags, first.image) == (
        ["홍길동"],
        ["json", "feed"],
        "https://json.example.com/1.png",
    )
    assert second.title == "" and second.summary == "A micro post without a title."


# -- falling back, and what is not a feed ----------------------------------------------------------


def test_broken_xml_falls_back_to_feedparser() -> None:
    truncated = (DATA / "korean_rss.xml").read_bytes()[:1800]
    with pytest.raises(FastPathDeclined, match="not well-formed"):
        parse_feed(truncated, url=BASE, parser="fast")
    feed = parse_feed(truncated, url=BASE)
    assert feed.parser == "feedparser" and feed.problems
    assert feed.entries[0].title.startswith("삼성전자")


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"  \n\t ", "empty"),
        (
            (DATA / "not_a_feed.html").read_bytes(),
            "got an HTML page, not a feed (the page links to a feed: https://feeds.example.com/feed.xml)",
        ),
        (
            b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
            "HTML page",
        ),
        (b"<!-- a comment first --><HTML><body>hi</body></HTML>", "HTML page"),
        (b'{"data": [1, 2, 3]}', "got JSON, not a feed"),
        (b"[1, 2", "malformed JSON"),
        (b"Service temporarily unavailable. Please try again later.", "not a feed"),
        (b'<?xml version="1.0"?><urlset><url><loc>https://x</loc></url></urlset>', "not a feed"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "not a feed"),
    ],
    ids=[
        "empty",
        "blank",
        "html",
        "xhtml",
        "html-comment",
        "json",
        "bad-json",
        "text",
        "sitemap",
        "binary",
    ],
)
def test_not_a_feed(content: bytes, reason: str) -> None:
    for parser in ("auto", "feedparser"):
        with pytest.raises(FeedError) as caught:
            parse_feed(content, url=BASE, parser=parser)  # type: ignore[arg-type]
        message = str(caught.value)
        assert reason in message and "\n" not in message
    # Forced, the fast path says the same or leaves the verdict to feedparser.
    with pytest.raises((FeedError, FastPathDeclined)):
        parse_feed(content, url=BASE, parser="fast")


def test_doctype_entities_are_never_expanded() -> None:
    """A DOCTYPE sends the document to feedparser; entity tricks neither hang nor leak."""
    laughs = (
        b'<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">' % ((c,) + (c - 1,) * 10)
            for c in range(ord("b"), ord("k"))
        )
        + b']><rss version="2.0"><channel><title>&j;</title><item><title>x</title>'
        b"<link>https://x.example/</link></item></channel></rss>"
    )
    xxe = (
        b'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><rss version="2.0">'
        b"<channel><title>t</title><item><title>&xxe;</title>"
        b"<link>https://x.example/</link></item></channel></rss>"
    )
    # libxml2 can read this parameter entity (forever) despite load_dtd=False.
    endless = (
        b'<!DOCTYPE rss [<!ENTITY % p SYSTEM "file:///dev/zero"> %p;]>'
        b'<rss version="2.0"><channel><title>t</title></channel></rss>'
    )
    for content in (laughs, xxe, endless):
        with pytest.raises(FastPathDeclined):
            parse_feed(content, url=BASE, parser="fast")
        start = time.perf_counter()
        try:
            feed = parse_feed(content, url=BASE)
        except FeedError:
            feed = None
        assert time.perf_counter() - start < 5
        if feed is not None:
            assert len(feed.title) < 1000
            assert all("root:" not in e.title for e in feed.entries)


def test_unusual_dialects_are_left_to_feedparser() -> None:
    atom03 = (
        b'<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Old</title>'
        b'<entry><title>E</title><link rel="alternate" href="https://x.example/e"/>'
        b"<issued>2004-01-01T00:00:00Z</issued></entry></feed>"
    )
    xhtml = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry>'
        b'<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">A <b>b</b></div>'
        b'</title><link href="https://x.example/e"/></entry></feed>'
    )
    for content, why in ((atom03, "unusual root"), (xhtml, "xhtml")):
        with pytest.raises(FastPathDeclined, match=why):
            parse_feed(content, url=BASE, parser="fast")
        feed = parse_feed(content, url=BASE)
        assert feed.parser == "feedparser"
        assert feed.entries[0].link == "https://x.example/e"
    assert parse_feed(xhtml, url=BASE).entries[0].title == "A b"


def test_parser_argument_is_checked() -> None:
    with pytest.raises(ValueError, match="parser"):
        parse("korean_rss.xml", parser="lxml")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sat, 14 Feb 2026 09:30:00 +0900", dt.datetime(2026, 2, 14, 0, 30, tzinfo=UTC)),
        ("14 Feb 2026 09:30 KST", dt.datetime(2026, 2, 14, 0, 30, tzinfo=UTC)),
        ("Sat, 14 Feb 26 09:30:00 GMT", dt.datetime(2026, 2, 14, 9, 30, tzinfo=UTC)),
        ("Tue, 15 Nov 2022 10:00:00 Z", dt.datetime(2022, 11, 15, 10, 0, tzinfo=UTC)),
        ("Sat, 14 Feb 2026 09:30:00", dt.datetime(2026, 2, 14, 9, 30, tzinfo=UTC)),
        ("2026-02-14T09:30:00+09:00", dt.datetime(2026, 2, 14, 0, 30, tzinfo=UTC)),
        ("2026-02-14T09:30:00.250Z", dt.datetime(2026, 2, 14, 9, 30, 0, 250000, tzinfo=UTC)),
        ("2026-02-14", dt.datetime(2026, 2, 14, tzinfo=UTC)),
        ("2026-02-14 09:30:00", dt.datetime(2026, 2, 14, 9, 30, tzinfo=UTC)),
        ("Saturday, February 14, 2026 9:30 AM", None),
        ("", None),
        ("not a date", None),
        ("Sat, 31 Feb 2026 09:30:00 +0000", None),
    ],
)
def test_parse_date(value: str, expected: dt.datetime | None) -> None:
    parsed = parse_date(value)
    if expected is None:
        assert parsed is None or parsed.tzinfo is UTC
    else:
        assert parsed == expected and parsed is not None and parsed.utcoffset() == dt.timedelta(0)


def test_the_fast_paths_lists_are_feedparsers() -> None:
    """The fast path keeps copies of two feedparser lists (to spare importing feedparser for
    feeds it never needs): a feedparser release that changed them must be noticed here."""
    from feedparser.sanitizer import _HTMLSanitizer  # type: ignore[import-untyped]

    from newsroom.collect import feeds

    assert frozenset(_HTMLSanitizer.acceptable_elements) == feeds._HTML_ELEMENTS
    assert frozenset(feedparser.urls.ACCEPTABLE_URI_SCHEMES) == feeds._SAFE_SCHEMES


def test_a_well_formed_feed_is_read_without_importing_feedparser() -> None:
    """The fast path alone: a build whose feeds are all well-formed never loads feedparser."""
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from newsroom.collect.feeds import parse_feed; "
        f"feed = parse_feed(Path({str(DATA / 'korean_rss.xml')!r}).read_bytes(), url={BASE!r}); "
        "assert feed.entries and feed.parser == 'fast', feed.parser; "
        "print('feedparser' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
