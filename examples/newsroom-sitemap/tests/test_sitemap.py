"""The sitemap source against a real HTTP server, with newsroom's pytest fixtures.

Run with the package installed next to newsroom: ``pip install -e '.[test]' && pytest``.
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Callable

import pytest
from newsroom_sitemap import SitemapSource, title_from_url

from newsroom import SourceError
from newsroom.core.plugins import Plugins
from newsroom.curate.pipeline import BuildResult
from newsroom.testing import LocalServer, run_source

NEWS_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://press.example/news/2026/02/13/chip-export</loc>
    <news:news>
      <news:publication><news:name>예시일보</news:name><news:language>ko</news:language>
      </news:publication>
      <news:publication_date>2026-02-13T09:00:00+09:00</news:publication_date>
      <news:title>반도체 수출, 1월 역대 최대</news:title>
    </news:news>
  </url>
  <url>
    <loc>https://press.example/news/2026/02/14/model-release</loc>
    <news:news>
      <news:publication><news:name>예시일보</news:name><news:language>ko</news:language>
      </news:publication>
      <news:publication_date>2026-02-14T05:30:00+09:00</news:publication_date>
      <news:title>국내 연구진, 한국어 언어 모델 공개</news:title>
    </news:news>
  </url>
</urlset>
"""


def plain_sitemap(*paths_and_dates: tuple[str, str]) -> str:
    urls = "".join(
        f"<url><loc>https://blog.example{path}</loc><lastmod>{date}</lastmod></url>"
        for path, date in paths_and_dates
    )
    return f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'


def source(**options: object) -> SitemapSource:
    return SitemapSource(SitemapSource.Options(**options), instance="test")


def test_news_sitemap_gives_titles_dates_and_publisher_newest_first(
    local_server: LocalServer,
) -> None:
    url = local_server.add("/news-sitemap.xml", NEWS_SITEMAP)
    run = run_source(source(url=url))
    assert [i.title for i in run.items] == [
        "국내 연구진, 한국어 언어 모델 공개",
        "반도체 수출, 1월 역대 최대",
    ]
    first = run.items[0]
    assert first.publisher == "예시일보"
    assert first.published == dt.datetime(
        2026, 2, 14, 5, 30, tzinfo=dt.timezone(dt.timedelta(hours=9))
    )
    assert run.warnings == []
    assert local_server.requests[0].headers["User-Agent"].startswith("newsroom/")


def test_a_sitemap_index_is_followed_to_its_newest_sitemaps_gzipped_or_not(
    local_server: LocalServer,
) -> None:
    new = plain_sitemap(("/posts/shipping-the-new-parser.html", "2026-02-14"))
    old = plain_sitemap(("/posts/hello-world", "2020-01-01"))
    local_server.add(
        "/sitemap-2026.xml.gz", gzip.compress(new.encode()), content_type="application/gzip"
    )
    local_server.add("/sitemap-2020.xml", old)
    index = (
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{local_server.url}/sitemap-2020.xml</loc><lastmod>2020-01-02</lastmod></sitemap>"
        f"<sitemap><loc>{local_server.url}/sitemap-2026.xml.gz</loc><lastmod>2026-02-14</lastmod></sitemap>"
        "</sitemapindex>"
    )
    url = local_server.add("/sitemap.xml", index)
    run = run_source(source(url=url, max_sitemaps=1))
    (item,) = run.items
    assert item.title == "Shipping the new parser"
    assert item.publisher == "blog.example"
    assert local_server.hits("/sitemap-2020.xml") == 0


def test_include_keeps_only_matching_paths(local_server: LocalServer) -> None:
    url = local_server.add(
        "/sitemap.xml",
        plain_sitemap(("/blog/a-post", "2026-02-14"), ("/about", "2026-02-14")),
    )
    run = run_source(source(url=url, include=["/blog/"]))
    assert [i.url for i in run.items] == ["https://blog.example/blog/a-post"]


def test_a_page_that_is_not_a_sitemap_is_a_clear_error(local_server: LocalServer) -> None:
    url = local_server.add("/feed", "<rss version='2.0'><channel/></rss>")
    with pytest.raises(SourceError, match=r"not a sitemap \(the document is <rss>\)"):
        run_source(source(url=url))


def test_titles_from_addresses() -> None:
    assert title_from_url("https://x.example/2026/02/new-model_released.html") == (
        "New model released"
    )
    assert title_from_url("https://x.example/articles/12345") == "Articles"
    assert title_from_url("https://x.example/12345") == "x.example/12345"


def test_the_plugin_is_installed_and_registers_its_source(plugin_manager: Plugins) -> None:
    registration = plugin_manager.sources.get("sitemap")
    assert registration is not None and registration.package == "newsroom-sitemap"
    assert plugin_manager.failures == []


def test_a_newsletter_built_from_a_sitemap(
    local_server: LocalServer, build_edition: Callable[..., BuildResult]
) -> None:
    url = local_server.add("/news-sitemap.xml", NEWS_SITEMAP)
    result = build_edition(
        f"""
[[sources]]
name = "press"
plugin = "sitemap"
url = "{url}"

[[sections]]
id = "news"
title = "News"
""",
        now=dt.datetime(2026, 2, 14, 6, tzinfo=dt.UTC),
    )
    assert [i.publisher for i in result.edition.items] == ["예시일보", "예시일보"]
    assert result.warnings == []
