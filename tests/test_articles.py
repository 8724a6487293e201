"""The ``articles`` filter: items with little text of their own get the main text of the
page they link to, fetched from a real server on 127.0.0.1 (sample pages in the styles of a
Korean news site, an English blog and a GitHub repository's README), with robots.txt
honoured, one deadline for the step, size limits and the fetch cache."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from canned import items_toml, run_build

from newsroom.testing import LocalServer

PAGES = Path(__file__).parent / "data" / "articles"
SECTIONS = '[[sections]]\nid = "news"\ntitle = "📰 뉴스"\nmatch = { source = "links" }\n'


def page(server: LocalServer, path: str, name: str, **kwargs: object) -> str:
    return server.add(
        path, (PAGES / name).read_bytes(), content_type="text/html; charset=utf-8", **kwargs
    )


def newsletter(items: list[dict[str, object]], options: str = "") -> str:
    return items_toml("links", items) + '[[filters]]\nplugin = "articles"\n' + options + SECTIONS


def warnings_of(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [w.message for w in result.warnings if w.message.startswith("articles:")]


def test_link_posts_get_the_main_text_of_their_pages(tmp_path: Path) -> None:
    with LocalServer() as server:
        items = [
            {"title": "삼성 HBM4 샘플 출하", "url": page(server, "/news/1", "news-site.html")},
            {
                "title": "Observational memory beats retrieval",
                "url": page(server, "/blog/notes", "blog.html"),
                "kind": "discussion",
            },
            {
                "title": "quillworks/tabular-rag",
                "url": page(server, "/quillworks/tabular-rag", "github-readme.html"),
                "kind": "repository",
            },
        ]
        result = run_build(tmp_path, newsletter(items))
    by_title = {i.title: i for i in result.edition.items}
    # The default summarizer cut the page's text to its first two sentences.
    assert by_title["삼성 HBM4 샘플 출하"].summary == (
        "삼성전자가 6세대 고대역폭 메모리(HBM4) 샘플을 주요 고객사에 출하하기 시작했다고 13일 "
        "밝혔다. 인공지능 가속기용 메모리 시장을 두고 벌어지는 경쟁이 한층 치열해질 전망이다."
    )
    assert by_title["Observational memory beats retrieval"].summary.startswith(
        "For a year our support agent answered questions about long customer histories"
    )
    assert by_title["quillworks/tabular-rag"].summary.startswith(
        "tabular-rag answers questions over documents that mix prose, tables and formulas"
    )
    for item in result.edition.items:
        assert item.extra["text_from"] == "article"
        # No navigation, cookie banner, related links, comments or footer.
        for junk in ("쿠키", "관련 기사", "Sign in", "Great post", "Copyright", "©", "Subscribe"):
            assert junk not in item.summary, (item.title, junk)
    assert warnings_of(result) == []


def test_items_with_text_of_their_own_are_not_fetched(tmp_path: Path) -> None:
    long_text = "이 항목은 자기 본문이 충분히 깁니다. " * 10
    with LocalServer() as server:
        url = page(server, "/news/1", "news-site.html")
        result = run_build(
            tmp_path, newsletter([{"title": "본문 있음", "url": url, "summary": long_text}])
        )
    assert server.requests == []
    assert "text_from" not in result.edition.items[0].extra


def test_robots_txt_is_read_once_per_host_and_honoured(tmp_path: Path) -> None:
    with LocalServer() as server:
        server.add(
            "/robots.txt",
            "User-agent: *\nDisallow: /private/\n\nUser-agent: newsroom\nDisallow: /members/\n",
            content_type="text/plain",
        )
        items = [
            {"title": "open", "url": page(server, "/news/1", "news-site.html")},
            {"title": "open too", "url": page(server, "/blog/notes", "blog.html")},
            {"title": "members", "url": page(server, "/members/2", "news-site.html")},
        ]
        result = run_build(tmp_path, newsletter(items))
    assert server.hits("/robots.txt") == 1
    assert server.hits("/members/2") == 0
    by_title = {i.title: i for i in result.edition.items}
    assert by_title["open"].summary and by_title["open too"].summary
    assert by_title["members"].summary == ""
    assert warnings_of(result) == [
        "articles: 1 of 3 page(s) gave no text: robots.txt disallows it (1)"
    ]


def test_a_host_whose_robots_txt_cannot_be_read_is_left_alone(tmp_path: Path) -> None:
    with LocalServer() as server:
        server.add("/robots.txt", "down", status=503, content_type="text/plain")
        url = page(server, "/news/1", "news-site.html")
        result = run_build(tmp_path, newsletter([{"title": "a", "url": url}], "timeout = 2\n"))
    assert server.hits("/news/1") == 0
    assert warnings_of(result) == [
        "articles: 1 of 1 page(s) gave no text: robots.txt could not be read (1)"
    ]


def test_the_whole_step_has_one_deadline(tmp_path: Path) -> None:
    with LocalServer() as server:
        slow = page(server, "/slow", "blog.html", delay=5.0)
        fast = page(server, "/news/1", "news-site.html")
        items = [{"title": "slow", "url": slow}, {"title": "fast", "url": fast}]
        result = run_build(tmp_path, newsletter(items, "timeout = 1\n"))
    by_title = {i.title: i for i in result.edition.items}
    assert by_title["fast"].summary.startswith("삼성전자가")
    assert by_title["slow"].summary == ""
    assert warnings_of(result) == [
        "articles: 1 of 2 page(s) gave no text: not finished when the step's 1 s (timeout) "
        "ran out (1)"
    ]


def test_pages_over_the_size_limit_and_other_files_are_not_read(tmp_path: Path) -> None:
    with LocalServer() as server:
        big = server.add(
            "/big",
            b"<html><body><p>" + b"x " * 20_000 + b"</p></body></html>",
            content_type="text/html",
        )
        pdf = server.add("/paper.pdf", b"%PDF-1.7 ...", content_type="application/pdf")
        items = [{"title": "big", "url": big}, {"title": "pdf", "url": pdf}]
        result = run_build(tmp_path, newsletter(items, "max_bytes = 10000\n"))
    assert all(item.summary == "" for item in result.edition.items)
    (warning,) = warnings_of(result)
    assert "response is larger than 9 KB" in warning
    assert "not a page (application/pdf) (1)" in warning


def test_a_rebuild_revalidates_pages_and_reuses_their_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with LocalServer() as server:
        url = page(server, "/news/1", "news-site.html", etag=True)
        toml = newsletter([{"title": "a", "url": url}])
        first = run_build(tmp_path, toml)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="newsroom"):
            second = run_build(tmp_path, toml)
    fetches = [r for r in server.requests if r.path == "/news/1"]
    assert len(fetches) == 2
    assert "If-None-Match" in fetches[1].headers  # answered 304: nothing downloaded again
    assert second.edition.items[0].summary == first.edition.items[0].summary != ""
    # The unchanged page's text came from the cache: it was not extracted again.
    assert "(1 extraction(s) from the cache)" in caplog.text
