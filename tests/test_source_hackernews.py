"""The hackernews source against a real HTTP server: the official API and the search API."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from newsroom_hackernews import HackerNewsSource

from newsroom import Item, SourceError
from newsroom.testing import LocalServer, SourceRun, run_source

NOW = dt.datetime(2026, 2, 14, 6, 0, tzinfo=dt.UTC)
POSTED = int(dt.datetime(2026, 2, 13, 18, 2, 44, tzinfo=dt.UTC).timestamp())

STORIES: dict[int, Any] = {
    46791532: {
        "id": 46791532,
        "type": "story",
        "by": "orbital_kite",
        "time": POSTED,
        "title": "xAI loses two more co-founders, leaving half of its founding team gone",
        "url": "https://techcrunch.com/2026/02/13/xai-loses-two-more-co-founders/",
        "score": 412,
        "descendants": 389,
        "kids": [46791600, 46791601],
    },
    46790001: {
        "id": 46790001,
        "type": "story",
        "by": "helixturn",
        "time": POSTED - 3600,
        "title": "Ask HN: 한국어 LLM 평가는 어떻게 하나요?",
        "text": "<p>Which benchmarks do you trust for Korean?",
        "score": 57,
        "descendants": 31,
    },
    46790002: {"id": 46790002, "type": "job", "title": "Acme is hiring", "time": POSTED},
    46790003: {"id": 46790003, "deleted": True, "type": "story", "time": POSTED},
    46790004: {
        "id": 46790004,
        "type": "story",
        "by": "quiet",
        "time": POSTED - 7200,
        "title": "A small story",
        "url": "https://example.org/small",
        "score": 3,
    },
}
TOP = [46791532, 46790001, 46790002, 46791532, 46790003, 46790004]


def serve(server: LocalServer, ids: list[int], stories: dict[int, Any]) -> None:
    server.add("/v0/topstories.json", json.dumps(ids), content_type="application/json")
    for story_id, story in stories.items():
        server.add(f"/v0/item/{story_id}.json", json.dumps(story), content_type="application/json")


def source(server: LocalServer, **options: Any) -> HackerNewsSource:
    options = {"base_url": server.url + "/v0", "search_url": server.url + "/api/v1", **options}
    return HackerNewsSource(HackerNewsSource.Options(**options), instance="hn")


def fetch(src: HackerNewsSource) -> SourceRun:
    return run_source(src, now=NOW)


def item_paths(server: LocalServer) -> list[str]:
    return [r.path for r in server.requests if r.path.startswith("/v0/item/")]


# -- the official API -------------------------------------------------------------------------


def test_stories_with_points_comments_and_discussion_links(local_server: LocalServer) -> None:
    serve(local_server, TOP, STORIES)
    run = fetch(source(local_server))
    story, ask, small = run.items
    assert not run.warnings

    assert story.title.startswith("xAI loses two more co-founders")
    assert story.url == STORIES[46791532]["url"]
    assert story.metrics == {"points": 412, "comments": 389}
    assert story.links == {"discussion": "https://news.ycombinator.com/item?id=46791532"}
    assert (story.kind, story.publisher, story.authors) == (
        "discussion",
        "Hacker News",
        ["orbital_kite"],
    )
    assert story.published == dt.datetime(2026, 2, 13, 18, 2, 44, tzinfo=dt.UTC)
    assert story.extra["hn_id"] == 46791532

    # An Ask HN has no article: it links to its discussion, and its text is the summary.
    assert ask.title == "Ask HN: 한국어 LLM 평가는 어떻게 하나요?"
    assert ask.url == "https://news.ycombinator.com/item?id=46790001"
    assert ask.summary.startswith("<p>Which benchmarks")
    assert ask.metrics == {"points": 57, "comments": 31}
    # A story without comments counts zero of them.
    assert small.metrics == {"points": 3, "comments": 0}


def test_jobs_deleted_stories_and_repeats_are_left_out(local_server: LocalServer) -> None:
    serve(local_server, TOP, STORIES)
    items = fetch(source(local_server)).items
    assert [i.extra["hn_id"] for i in items] == [46791532, 46790001, 46790004]
    # The repeated id was asked for once.
    assert item_paths(local_server).count("/v0/item/46791532.json") == 1


def test_max_items_asks_for_no_more_stories_than_needed(local_server: LocalServer) -> None:
    serve(local_server, TOP, STORIES)
    items = fetch(source(local_server, max_items=1)).items
    assert [i.extra["hn_id"] for i in items] == [46791532]
    assert item_paths(local_server) == ["/v0/item/46791532.json"]


def test_min_points_and_scan(local_server: LocalServer) -> None:
    serve(local_server, TOP, STORIES)
    assert [i.title for i in fetch(source(local_server, min_points=100)).items] == [
        STORIES[46791532]["title"]
    ]
    # Looking at the first id only: the Ask HN (57 points) is not even fetched.
    local_server.requests.clear()
    run = fetch(source(local_server, min_points=50, scan=1))
    assert [i.extra["hn_id"] for i in run.items] == [46791532]
    assert item_paths(local_server) == ["/v0/item/46791532.json"]


def test_min_points_that_nothing_reaches_says_so(local_server: LocalServer) -> None:
    serve(local_server, TOP, STORIES)
    run = fetch(source(local_server, min_points=1000))
    assert run.items == []
    assert run.messages == ["none of the 5 stories looked at has 1000 points or more"]


def test_link_discussion_and_other_lists(local_server: LocalServer) -> None:
    local_server.add(
        "/v0/beststories.json", json.dumps([46791532]), content_type="application/json"
    )
    serve(local_server, [], STORIES)
    (item,) = fetch(source(local_server, stories="best", link="discussion")).items
    assert item.url == "https://news.ycombinator.com/item?id=46791532"
    assert urlsplit(local_server.requests[0].path).path == "/v0/beststories.json"


def test_site_url_for_discussion_links(local_server: LocalServer) -> None:
    serve(local_server, [46790001], STORIES)
    (item,) = fetch(source(local_server, site_url="https://hn.example.org/")).items
    assert item.url == "https://hn.example.org/item?id=46790001"


def test_requests_in_flight_are_bounded(local_server: LocalServer) -> None:
    in_flight = 0
    most = 0
    lock = threading.Lock()
    ids = list(range(1, 13))

    def story(request: Any, body: bytes) -> tuple[int, dict[str, str], bytes]:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.05)  # long enough for the next requests of a batch to arrive meanwhile
        with lock:
            in_flight -= 1
        story_id = int(urlsplit(request.path).path.rsplit("/", 1)[1].split(".")[0])
        data = {"id": story_id, "type": "story", "title": f"Story {story_id}", "score": 1}
        return 200, {"Content-Type": "application/json"}, json.dumps(data).encode()

    local_server.add("/v0/topstories.json", json.dumps(ids), content_type="application/json")
    for story_id in ids:
        local_server.add(f"/v0/item/{story_id}.json", handler=story)
    items = fetch(source(local_server, concurrency=3, max_items=12)).items
    assert [i.extra["hn_id"] for i in items] == ids  # in the list's order
    assert 1 <= most <= 3


# -- bad answers ----------------------------------------------------------------------------


def test_story_list_server_error_is_a_source_error(local_server: LocalServer) -> None:
    local_server.add("/v0/topstories.json", "busy", status=500, content_type="text/plain")
    with pytest.raises(SourceError, match="500") as info:
        fetch(source(local_server))
    assert urlsplit(info.value.url or "").path == "/v0/topstories.json"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("<html>maintenance</html>", "not what the API sends"),
        ('{"ids": [1, 2]}', "expected a list of story ids, got dict"),
        ('[1, "two", 3]', "something other than story ids"),
    ],
)
def test_malformed_story_list_is_a_clear_source_error(
    local_server: LocalServer, body: str, problem: str
) -> None:
    local_server.add("/v0/topstories.json", body, content_type="application/json")
    with pytest.raises(SourceError, match=problem):
        fetch(source(local_server))


def test_stories_that_fail_are_a_warning_and_the_rest_go_on(local_server: LocalServer) -> None:
    serve(local_server, [46791532, 7, 8, 9, 46790001], STORIES)
    local_server.add("/v0/item/7.json", "oops", status=500, content_type="text/plain")
    local_server.add("/v0/item/8.json", "{not json", content_type="application/json")
    local_server.add(
        "/v0/item/9.json", '{"id": 9, "type": "story"}', content_type="application/json"
    )
    run = fetch(source(local_server))
    assert [i.extra["hn_id"] for i in run.items] == [46791532, 46790001]
    (message,) = run.messages
    assert message.startswith("3 of 5 stories could not be read (7: ")
    assert "500" in message
    assert "8: the answer is not JSON" in message
    assert "9: not a story: it has no title" in message


def test_no_story_readable_is_a_source_error(local_server: LocalServer) -> None:
    local_server.add("/v0/topstories.json", "[7, 8]", content_type="application/json")
    local_server.add("/v0/item/7.json", "oops", status=500, content_type="text/plain")
    local_server.add("/v0/item/8.json", "[]", content_type="application/json")
    with pytest.raises(SourceError, match=r"no story could be read \(2 failed"):
        fetch(source(local_server))


# -- the search API ---------------------------------------------------------------------------

HITS = {
    "hits": [
        {
            "objectID": "46791532",
            "title": "Show HN: 한국어 토크나이저",
            "url": "https://github.com/example/tokenizer",
            "author": "hangul",
            "points": 230,
            "num_comments": 41,
            "created_at_i": POSTED,
        },
        {
            "objectID": "46790001",
            "title": "Show HN: A text-only post",
            "url": None,
            "story_text": "I built this over a weekend.",
            "author": "maker",
            "points": 120,
            "num_comments": 12,
            "created_at_i": POSTED,
        },
        {"objectID": "1", "points": 10},
    ]
}


def test_search_asks_once_with_filters(local_server: LocalServer) -> None:
    local_server.add("/api/v1/search", json.dumps(HITS), content_type="application/json")
    run = fetch(
        source(
            local_server, min_points=100, search={"query": "LLM", "tags": "show_hn", "hours": 24}
        )
    )
    first, text_only = run.items
    assert (first.title, first.url) == ("Show HN: 한국어 토크나이저", HITS["hits"][0]["url"])
    assert first.metrics == {"points": 230, "comments": 41}
    assert first.links["discussion"] == "https://news.ycombinator.com/item?id=46791532"
    assert text_only.url == "https://news.ycombinator.com/item?id=46790001"
    assert text_only.summary == "I built this over a weekend."
    assert run.messages == ["skipped 1 search hit(s) without an id or a title"]

    (request,) = local_server.requests
    query = parse_qs(urlsplit(request.path).query)
    since = int(NOW.timestamp()) - 24 * 3600
    assert query["query"] == ["LLM"] and query["tags"] == ["show_hn"]
    assert query["numericFilters"] == [f"created_at_i>{since},points>=100"]


def test_search_answer_that_is_not_a_search_is_an_error(local_server: LocalServer) -> None:
    local_server.add("/api/v1/search", '{"message": "bad"}', content_type="application/json")
    with pytest.raises(SourceError, match="a list of hits"):
        fetch(source(local_server, search={}))


def test_registered_as_a_plugin(plugin_manager: Any) -> None:
    registration = plugin_manager.sources.get("hackernews")
    assert registration is not None and registration.cls is HackerNewsSource


# -- captured responses from the real APIs ------------------------------------------------------


@pytest.fixture
def captured(shared_fixtures: Path) -> Path:
    return shared_fixtures / "hackernews"


def test_captured_topstories(local_server: LocalServer, captured: Path) -> None:
    ids = json.loads((captured / "firebase_v0_topstories_2023-08.json").read_text("utf-8"))
    local_server.add_file(
        "/v0/topstories.json",
        captured / "firebase_v0_topstories_2023-08.json",
        content_type="application/json; charset=utf-8",
    )
    for n, story_id in enumerate(ids[:5]):
        story = {"id": story_id, "type": "story", "title": f"Story {n}", "score": 100 - n}
        local_server.add(f"/v0/item/{story_id}.json", json.dumps(story))
    items: list[Item] = fetch(source(local_server, max_items=5)).items
    assert len(ids) == len(set(ids)) == 500
    assert (
        [i.extra["hn_id"] for i in items]
        == ids[:5]
        == [37047053, 37047304, 37032286, 37043934, 37027909]
    )
    assert [i.metrics["points"] for i in items] == [100, 99, 98, 97, 96]


def test_captured_search_response(local_server: LocalServer, captured: Path) -> None:
    local_server.add_file(
        "/api/v1/search",
        captured / "ai-weekly-radar_algolia_search_show_hn_2026-07.json",
        content_type="application/json; charset=utf-8",
    )
    run = fetch(source(local_server, max_items=50, search={"tags": "show_hn"}))
    items = run.items
    assert not run.warnings
    assert len(items) == 30
    first = items[0]
    assert (first.title, first.url) == ("Show HN: 18 Words", "https://18words.com/")
    assert first.metrics == {"points": 1150, "comments": 360}
    assert first.authors == ["pompomsheep"]
    assert first.published == dt.datetime(2026, 7, 9, 12, 48, 52, tzinfo=dt.UTC)
    second = items[1]
    assert second.url == "https://github.com/JustVugg/colibri"
    assert second.metrics == {"points": 920, "comments": 234}
    # The one hit without a URL links to its discussion.
    (no_url,) = [i for i in items if i.extra["hn_id"] == 48847834]
    assert no_url.url == "https://news.ycombinator.com/item?id=48847834"
    assert no_url.title == "Show HN: Reverse-engineering web apps into agent tools"
    assert no_url.summary  # its story_text
    assert all(i.metrics["points"] > 50 for i in items)
    # min_points also applies to an answer that did not filter.
    strict = fetch(source(local_server, min_points=100, search={"tags": "show_hn"})).items
    assert len(strict) == 11 and min(i.metrics["points"] for i in strict) == 106
