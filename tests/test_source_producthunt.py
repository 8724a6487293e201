"""The producthunt source: the public feed (captured) and the GraphQL API (own sample answers)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import feedparser
import pytest
from newsroom_producthunt import ProductHuntSource

from newsroom import Item, SourceError
from newsroom.testing import LocalServer, run_source

DATA = Path(__file__).parent / "data" / "producthunt"
FEED = "producthunt/ai-weekly-radar_www.producthunt.com_feed_2026-07-13.atom.xml"
# 09:00 PST on 2 March 2026: Product Hunt's day began at 08:00 UTC.
NOW = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)
TOKEN = "ph-test-token-5f2a9c"


@pytest.fixture(autouse=True)
def no_token_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real token must not switch these tests to the API (or leak into them).
    monkeypatch.delenv("PRODUCTHUNT_TOKEN", raising=False)


def source(server: LocalServer, **options: object) -> ProductHuntSource:
    options = {"base_url": server.url, "api_url": server.url + "/v2/api/graphql", **options}
    return ProductHuntSource(ProductHuntSource.Options(**options), instance="products")


def fetch(src: ProductHuntSource) -> tuple[list[Item], list[str]]:
    run = run_source(src, timezone="Asia/Seoul", now=NOW)
    return run.items, run.messages


def graphql_route(server: LocalServer, answer: str, status: int = 200) -> list[dict[str, Any]]:
    """Serve ``tests/data/producthunt/<answer>`` to POSTs; returns the decoded request bodies."""
    body = (DATA / answer).read_bytes()
    received: list[dict[str, Any]] = []

    def handler(request: Any, data: bytes) -> tuple[int, dict[str, str], bytes]:
        received.append(json.loads(data))
        return status, {"Content-Type": "application/json; charset=utf-8"}, body

    server.add("/v2/api/graphql", handler=handler)
    return received


@pytest.fixture
def feed_file(shared_fixtures: Path) -> Path:
    return shared_fixtures / FEED


# -- the public feed ---------------------------------------------------------------------------


def test_feed_request(local_server: LocalServer, feed_file: Path) -> None:
    local_server.add_file("/feed", feed_file, content_type="application/atom+xml")
    fetch(source(local_server))
    [request] = local_server.requests
    assert (request.method, request.path) == ("GET", "/feed")
    assert request.headers["User-Agent"].startswith("newsroom/")
    assert "Authorization" not in request.headers


def test_captured_feed_with_50_entries(local_server: LocalServer, feed_file: Path) -> None:
    local_server.add_file("/feed", feed_file, content_type="application/atom+xml")
    items, warnings = fetch(source(local_server))
    assert len(items) == 50 and warnings == []

    oracle = feedparser.parse(feed_file.read_bytes()).entries
    assert sorted(i.title for i in items) == sorted(e.title for e in oracle)
    assert len({i.url for i in items}) == 50

    # The feed lists posts by activity; the items come newest first.
    dates = [i.published for i in items]
    assert all(d is not None for d in dates)
    assert dates == sorted(dates, reverse=True)  # type: ignore[type-var]
    assert items[0].title == "TailMux"
    assert items[0].published == dt.datetime(2026, 7, 13, 6, 32, 29, tzinfo=dt.UTC)

    for item in items:
        assert (item.kind, item.publisher) == ("product", "Product Hunt")
        assert item.url.startswith("https://www.producthunt.com/products/")
        assert item.summary.startswith("<p>") and "Discussion" not in item.summary
        # The redirect to the product's site, without the feed's tracking "?app_id=339".
        assert item.links["website"] == (
            f"https://www.producthunt.com/r/p/{item.extra['producthunt_id']}"
        )
        assert len(item.authors) == 1


def test_feed_entry_fields(local_server: LocalServer, feed_file: Path) -> None:
    local_server.add_file("/feed", feed_file, content_type="application/atom+xml")
    items, _ = fetch(source(local_server))
    simba = next(i for i in items if i.title == "Simba Voice Agents")
    assert simba.url == "https://www.producthunt.com/products/speechify"
    assert simba.summary == (
        "<p>Voice agents powered by Simba 3.2 the world&#x27;s #1 voice model</p>"
    )
    assert simba.authors == ["Luke Oliff"]
    assert simba.published == dt.datetime(2026, 7, 8, 17, 33, 4, tzinfo=dt.UTC)
    assert simba.links == {"website": "https://www.producthunt.com/r/p/1191340"}
    assert simba.extra == {"producthunt_id": "1191340"}
    assert simba.metrics == {} and simba.tags == []  # the feed has neither


def test_html_instead_of_feed_is_a_source_error(local_server: LocalServer) -> None:
    local_server.add(
        "/feed",
        "<!DOCTYPE html><html><body>Just a moment...</body></html>",
        content_type="text/html",
    )
    with pytest.raises(SourceError, match="did not answer with a feed"):
        fetch(source(local_server))


def test_feed_server_error(local_server: LocalServer) -> None:
    local_server.add("/feed", "no", status=500, content_type="text/plain")
    with pytest.raises(SourceError, match="500"):
        fetch(source(local_server))


# -- the GraphQL API -----------------------------------------------------------------------------


def test_api_request(local_server: LocalServer) -> None:
    received = graphql_route(local_server, "graphql_posts.json")
    fetch(source(local_server, token=TOKEN, limit=10))
    [request] = local_server.requests
    assert (request.method, request.path) == ("POST", "/v2/api/graphql")
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("newsroom/")
    [body] = received
    assert "posts(order: VOTES" in body["query"]
    for field in ("votesCount", "commentsCount", "topics", "makers", "thumbnail", "website"):
        assert field in body["query"]
    # Product Hunt's day starts at midnight Pacific time, whatever the newsletter's zone.
    assert body["variables"] == {"first": 10, "postedAfter": "2026-03-02T00:00:00-08:00"}
    assert local_server.hits("/feed") == 0


def test_yesterday_is_bounded_on_both_sides(local_server: LocalServer) -> None:
    received = graphql_route(local_server, "graphql_posts.json")
    fetch(source(local_server, token=TOKEN, day="yesterday"))
    assert received[0]["variables"] == {
        "first": 20,
        "postedAfter": "2026-03-01T00:00:00-08:00",
        "postedBefore": "2026-03-02T00:00:00-08:00",
    }


def test_api_posts_become_items(local_server: LocalServer) -> None:
    graphql_route(local_server, "graphql_posts.json")
    (quill, tide, loom), warnings = fetch(source(local_server, token=TOKEN))
    assert warnings == []

    assert quill.title == "Quillmate"
    assert quill.url == "https://www.producthunt.com/posts/quillmate"  # utm_* dropped
    assert quill.links == {"website": "https://www.producthunt.com/r/ABCDEF123456"}
    assert quill.summary == "<p>Draft replies to every email in your voice &amp; tone</p>"
    assert quill.metrics == {"votes": 612, "comments": 87}
    assert quill.tags == ["Productivity", "Artificial Intelligence", "Email"]
    assert quill.authors == ["Mina Park"]  # "[REDACTED]" makers are dropped
    assert quill.image == "https://ph-files.imgix.net/0a1b2c3d-quillmate.png?auto=format"
    assert quill.published == dt.datetime(2026, 3, 2, 8, 1, tzinfo=dt.UTC)
    assert quill.extra["producthunt_id"] == "1201001"
    assert quill.extra["description"].startswith("Quillmate reads your sent mail")
    assert (quill.kind, quill.publisher) == ("product", "Product Hunt")

    assert tide.summary == "<p>Uptime checks that explain &lt;why&gt; a site went down</p>"
    assert (tide.authors, tide.image, tide.tags) == ([], None, ["Developer Tools"])
    assert "description" not in tide.extra

    assert loom.metrics == {"votes": 98, "comments": 0}
    assert loom.published == dt.datetime(2026, 3, 2, 8, 1, tzinfo=dt.UTC)


def test_token_from_the_environment(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODUCTHUNT_TOKEN", "from-env")
    graphql_route(local_server, "graphql_posts.json")
    items, _ = fetch(source(local_server))
    assert len(items) == 3
    assert local_server.requests[0].headers["Authorization"] == "Bearer from-env"


def test_configured_token_wins_over_the_environment(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODUCTHUNT_TOKEN", "from-env")
    graphql_route(local_server, "graphql_posts.json")
    fetch(source(local_server, token=TOKEN))
    assert local_server.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


def test_token_is_not_shown(local_server: LocalServer) -> None:
    src = source(local_server, token=TOKEN)
    assert TOKEN not in repr(src.options) and TOKEN not in str(src.options.model_dump())


def test_graphql_error_is_a_source_error(local_server: LocalServer) -> None:
    graphql_route(local_server, "graphql_error.json")  # HTTP 200 with {"errors": [...]}
    with pytest.raises(SourceError, match="Field 'votesCountt' doesn't exist") as info:
        fetch(source(local_server, token=TOKEN))
    assert TOKEN not in str(info.value)


def test_rejected_token_is_a_source_error(local_server: LocalServer) -> None:
    graphql_route(local_server, "graphql_unauthorized.json", status=401)
    with pytest.raises(SourceError, match="Please supply a valid access token") as info:
        fetch(source(local_server, token=TOKEN))
    assert "PRODUCTHUNT_TOKEN" in str(info.value)
    assert TOKEN not in str(info.value) and TOKEN not in (info.value.url or "")


def test_partial_answer_is_used_with_a_warning(local_server: LocalServer) -> None:
    answer = json.loads((DATA / "graphql_posts.json").read_text())
    answer["errors"] = [{"message": "makers is restricted for this token"}]
    local_server.add("/v2/api/graphql", json.dumps(answer), content_type="application/json")
    items, warnings = fetch(source(local_server, token=TOKEN))
    assert len(items) == 3
    assert warnings == ["Product Hunt API reported: makers is restricted for this token"]


def test_api_server_error(local_server: LocalServer) -> None:
    local_server.add("/v2/api/graphql", "bad gateway", status=502, content_type="text/plain")
    with pytest.raises(SourceError, match="502"):
        fetch(source(local_server, token=TOKEN))


def test_api_answer_that_is_not_json(local_server: LocalServer) -> None:
    local_server.add("/v2/api/graphql", "<html>login</html>", content_type="text/html")
    with pytest.raises(SourceError, match="did not answer with JSON"):
        fetch(source(local_server, token=TOKEN))


def test_registered_as_a_plugin(plugin_manager: object) -> None:
    registration = plugin_manager.sources.get("producthunt")  # type: ignore[attr-defined]
    assert registration is not None and registration.cls is ProductHuntSource
