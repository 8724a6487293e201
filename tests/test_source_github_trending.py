"""The github-trending source against a real HTTP server serving captured trending pages."""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from newsroom_github_trending import GitHubTrendingSource
from pydantic import ValidationError

from newsroom import Item, SourceError
from newsroom.testing import LocalServer, run_source

DATA = Path(__file__).parent / "data" / "github"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def source(server: LocalServer, **options: object) -> GitHubTrendingSource:
    options = {"base_url": server.url, **options}
    return GitHubTrendingSource(GitHubTrendingSource.Options(**options), instance="repos")


def fetch(src: GitHubTrendingSource) -> list[Item]:
    return run_source(src, now=NOW).items


def serve(server: LocalServer, path: str, file: Path) -> None:
    server.add_file(path, file, content_type="text/html; charset=utf-8")


def squeeze(text: str | None) -> str:
    """Text without any whitespace, to compare descriptions with another parser's output."""
    return "".join((text or "").split())


@pytest.fixture
def trending(shared_fixtures: Path) -> Path:
    return shared_fixtures / "github_trending"


# -- the request ----------------------------------------------------------------------------


def test_default_request(local_server: LocalServer) -> None:
    serve(local_server, "/trending", DATA / "trending_minimal.html")
    fetch(source(local_server))
    request = local_server.requests[-1]
    assert urlsplit(request.path).path == "/trending"
    assert parse_qs(urlsplit(request.path).query) == {"since": ["daily"]}
    assert request.headers["User-Agent"].startswith("newsroom/")


def test_language_period_and_spoken_language(local_server: LocalServer) -> None:
    serve(local_server, "/trending/python", DATA / "trending_minimal.html")
    items = fetch(source(local_server, language="python", since="weekly", spoken_language="ko"))
    parts = urlsplit(local_server.requests[-1].path)
    assert parts.path == "/trending/python"
    assert parse_qs(parts.query) == {"since": ["weekly"], "spoken_language_code": ["ko"]}
    assert {i.extra["since"] for i in items} == {"weekly"}


@pytest.mark.parametrize(
    ("language", "path"),
    [
        ("c++", "/trending/c++"),
        ("c#", "/trending/c%23"),
        ("jupyter-notebook", "/trending/jupyter-notebook"),
    ],
)
def test_language_is_a_path_segment(local_server: LocalServer, language: str, path: str) -> None:
    serve(local_server, path, DATA / "trending_minimal.html")
    fetch(source(local_server, language=language))
    assert local_server.requests[-1].path.split("?")[0] == path


def test_unknown_period_is_refused() -> None:
    with pytest.raises(ValidationError):
        GitHubTrendingSource.Options(since="yearly")


def test_registered_as_a_plugin(plugin_manager: object) -> None:
    registration = plugin_manager.sources.get("github-trending")  # type: ignore[attr-defined]
    assert registration is not None and registration.cls is GitHubTrendingSource


# -- parsing ---------------------------------------------------------------------------------


def test_sample_page(local_server: LocalServer) -> None:
    serve(local_server, "/trending", DATA / "trending_minimal.html")
    full, bare = fetch(source(local_server, since="weekly"))

    assert full.title == "example-org/fast-thing"
    assert full.url == "https://github.com/example-org/fast-thing"  # not the local server
    # The description is text: markup-like characters are escaped into the HTML summary.
    assert full.summary == "Parses &lt;b&gt;tags&lt;/b&gt; &amp; more. https://fast.example"
    assert full.metrics == {"stars": 12345, "forks": 678, "stars_period": 2001}
    assert full.tags == ["C++"]
    assert (full.kind, full.publisher, full.authors) == ("repository", "GitHub", ["example-org"])
    assert full.extra == {
        "repo": "example-org/fast-thing",
        "since": "weekly",
        "rank": 1,
        "built_by": [
            {
                "login": "alice",
                "url": "https://github.com/alice",
                "avatar": "https://avatars.githubusercontent.com/u/1?s=40&v=4",
            }
        ],
    }

    assert bare.title == "someone/bare"
    assert (bare.summary, bare.tags, bare.metrics) == ("", [], {"stars": 7})
    assert bare.extra["built_by"] == [] and bare.extra["rank"] == 2


def test_links_follow_site_url(local_server: LocalServer) -> None:
    serve(local_server, "/trending", DATA / "trending_minimal.html")
    [item, _] = fetch(source(local_server, site_url="https://gh.example.org/"))
    assert item.url == "https://gh.example.org/example-org/fast-thing"
    assert item.extra["built_by"][0]["url"] == "https://gh.example.org/alice"


# Every markup era: (file, repositories, first repository, its stars, forks, period stars, language)
ERAS = [
    (
        "go-trending_2019-05_trending_legacy_repo-list.html",
        25,
        "microsoft/Terminal",
        33074,
        2914,
        1573,
        "C++",
    ),
    ("go-trending_2022-04_trending.html", 25, "BoomingTech/Pilot", 1553, 534, 190, "C++"),
    ("go-trending_2023-05_trending.html", 25, "smol-ai/developer", 5096, 277, 1582, "Python"),
    (
        "idealode_2026-09_trending_since-daily_2-articles_ABRIDGED.html",
        2,
        "mattpocock/skills",
        248641,
        21055,
        1601,
        "Shell",
    ),
]


@pytest.mark.parametrize(("file", "count", "name", "stars", "forks", "period", "language"), ERAS)
def test_every_markup_era(
    local_server: LocalServer,
    trending: Path,
    file: str,
    count: int,
    name: str,
    stars: int,
    forks: int,
    period: int,
    language: str,
) -> None:
    serve(local_server, "/trending", trending / file)
    items = fetch(source(local_server))
    assert len(items) == count
    first = items[0]
    assert (first.title, first.url) == (name, f"https://github.com/{name}")
    assert first.metrics == {"stars": stars, "forks": forks, "stars_period": period}
    assert first.tags == [language]
    assert first.summary and len(first.extra["built_by"]) >= 4
    assert len({i.url for i in items}) == count
    for item in items:
        assert item.metrics["stars"] > 0 and "stars_period" in item.metrics


def test_2026_markup_second_row(local_server: LocalServer, trending: Path) -> None:
    serve(local_server, "/trending", trending / ERAS[3][0])
    second = fetch(source(local_server))[1]
    assert second.title == "DietrichGebert/ponytail"
    assert second.summary.startswith("Makes your AI agent think like the laziest senior dev")
    assert second.metrics["stars"] == 124209 and second.metrics["forks"] == 6701
    assert second.tags == ["JavaScript"]


@pytest.mark.parametrize(
    ("number", "path"),
    [
        (1, "/trending/typescript"),
        (2, "/trending/v"),
        (3, "/trending/jupyter-notebook"),
        (4, "/trending"),
    ],
)
def test_matches_expected_output(
    local_server: LocalServer, trending: Path, number: int, path: str
) -> None:
    """The niklastiede pages against that project's own parser output (``.expected.json``)."""
    page = trending / f"niklastiede_2021-04_repodata{number}.html"
    expected = json.loads(page.with_suffix(".expected.json").read_text("utf-8"))
    serve(local_server, path, page)
    language = path.removeprefix("/trending").lstrip("/") or None
    items = fetch(source(local_server, language=language))

    assert len(items) == len(expected)
    for item, want in zip(items, expected, strict=True):
        assert item.extra["rank"] == want["rank"]
        assert item.title == f"{want['username']}/{want['repositoryName']}"
        assert item.url == want["url"]
        counts = {
            "stars": want["totalStars"],
            "forks": want["forks"],
            "stars_period": want["starsSince"],
        }
        # A count the page does not show (a brand-new repository) is left out, not zero.
        assert item.metrics == {k: v for k, v in counts.items() if v is not None}
        assert item.tags == ([want["language"]] if want["language"] else [])
        assert item.extra["since"] == want["since"]
        # Their parser drops the space next to emoji and links; ours keeps the page's spacing.
        assert squeeze(html.unescape(item.summary)) == squeeze(want["description"])
        assert [(b["url"], b["avatar"]) for b in item.extra["built_by"]] == [
            (b["url"], b["avatar"]) for b in want["builtBy"]
        ]


def test_description_keeps_the_pages_spacing(local_server: LocalServer, trending: Path) -> None:
    serve(local_server, "/trending/v", trending / "niklastiede_2021-04_repodata2.html")
    vlang = fetch(source(local_server, language="v"))[0]
    assert vlang.summary == (
        "Simple, fast, safe, compiled language for developing maintainable software. "
        "Compiles itself in &lt;1s with zero library dependencies. https://vlang.io"
    )


# -- bad pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["error_page.html", None])
def test_page_without_repositories_is_an_error(local_server: LocalServer, page: str | None) -> None:
    if page:
        serve(local_server, "/trending", DATA / page)
    else:
        local_server.add("/trending", "", content_type="text/html")
    with pytest.raises(SourceError, match="no repositories were found") as info:
        fetch(source(local_server))
    assert urlsplit(info.value.url or "").path == "/trending"


def test_developers_page_has_no_repositories(local_server: LocalServer, trending: Path) -> None:
    # Its rows link to "/login", not "/owner/name": not mistaken for repositories.
    serve(local_server, "/trending", trending / "go-trending_2022-04_trending_developers.html")
    with pytest.raises(SourceError, match="no repositories were found"):
        fetch(source(local_server))


def test_server_error_is_a_source_error(local_server: LocalServer) -> None:
    local_server.add("/trending", "busy", status=500, content_type="text/plain")
    with pytest.raises(SourceError, match="500"):
        fetch(source(local_server))
