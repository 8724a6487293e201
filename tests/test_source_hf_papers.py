"""The hf-papers source against a real HTTP server serving daily-papers answers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from newsroom_hf_papers import HfPapersSource

from newsroom import SourceError
from newsroom.testing import LocalServer, SourceRun, run_source

NOW = dt.datetime(2026, 2, 14, 6, 0, tzinfo=dt.UTC)
PATH = "/api/daily_papers"


def entry(paper_id: str, title: str, upvotes: int, **paper: Any) -> dict[str, Any]:
    return {
        "paper": {
            "id": paper_id,
            "title": title,
            "summary": f"Abstract of {title}.\nIt continues on a second line.",
            "upvotes": upvotes,
            "publishedAt": "2026-02-11T00:00:00.000Z",
            "submittedOnDailyAt": "2026-02-13T01:12:00.000Z",
            "authors": [
                {"_id": "1", "name": "Jiwoo Park", "hidden": False},
                {"_id": "2", "name": "Hidden Person", "hidden": True},
                {"_id": "3", "name": "Alex Kim"},
            ],
            **paper,
        },
        "title": title,
        "numComments": 4,
        "thumbnail": f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{paper_id}.png",
        "publishedAt": "2026-02-12T20:00:00.000Z",
    }


SAMPLE = [
    entry(
        "2602.12205",
        "DeepGen 1.0: A Lightweight Unified Multimodal Model",
        87,
        githubRepo="https://github.com/DeepGenTeam/DeepGen",
        githubStars=1320,
        organization={"name": "sii", "fullname": "Shanghai Innovation Institute"},
    ),
    entry("2602.12153", "dVoting: Fast Voting for Diffusion LLMs", 12),
    {"paper": {"title": "no id"}},
]


def source(server: LocalServer, **options: Any) -> HfPapersSource:
    return HfPapersSource(HfPapersSource.Options(base_url=server.url, **options), instance="hf")


def fetch(src: HfPapersSource) -> SourceRun:
    return run_source(src, now=NOW)


def serve(server: LocalServer, body: Any) -> None:
    text = body if isinstance(body, str) else json.dumps(body)
    server.add(PATH, text, content_type="application/json")


def test_papers_with_upvotes_links_and_dates(local_server: LocalServer) -> None:
    serve(local_server, SAMPLE)
    run = fetch(source(local_server))
    deepgen, dvoting = run.items
    assert run.messages == ["skipped 1 entry without a paper"]

    assert deepgen.title == "DeepGen 1.0: A Lightweight Unified Multimodal Model"
    assert deepgen.url == "https://huggingface.co/papers/2602.12205"
    assert deepgen.links == {
        "paper": "https://arxiv.org/abs/2602.12205",
        "pdf": "https://arxiv.org/pdf/2602.12205",
        "code": "https://github.com/DeepGenTeam/DeepGen",
        "huggingface": "https://huggingface.co/papers/2602.12205",
    }
    # Its own link is its page on Hugging Face, which themes label as such.
    assert deepgen.link_kind == "huggingface"
    assert deepgen.metrics == {"upvotes": 87, "comments": 4, "github_stars": 1320}
    assert (deepgen.kind, deepgen.publisher) == ("paper", "Hugging Face Daily Papers")
    assert deepgen.authors == ["Jiwoo Park", "Alex Kim"]  # hidden authors stay hidden
    # Dated when it reached the daily list, not when it reached arXiv.
    assert deepgen.published == dt.datetime(2026, 2, 13, 1, 12, tzinfo=dt.UTC)
    # The abstract is text, unwrapped, escaped into the HTML summary.
    assert deepgen.summary == (
        "<p>Abstract of DeepGen 1.0: A Lightweight Unified Multimodal Model. "
        "It continues on a second line.</p>"
    )
    assert deepgen.image and deepgen.image.endswith("/2602.12205.png")
    assert deepgen.extra == {
        "arxiv_id": "2602.12205",
        "rank": 1,
        "organization": "Shanghai Innovation Institute",
    }
    # No repository: no code link and no stars.
    assert "code" not in dvoting.links and "github_stars" not in dvoting.metrics

    (request,) = local_server.requests
    assert urlsplit(request.path).path == PATH
    assert parse_qs(urlsplit(request.path).query) == {"limit": ["100"]}
    assert request.headers["User-Agent"].startswith("newsroom/")


def test_min_upvotes_max_items_and_arxiv_links(local_server: LocalServer) -> None:
    serve(local_server, SAMPLE)
    (only,) = fetch(source(local_server, min_upvotes=50, link="arxiv")).items
    assert only.url == "https://arxiv.org/abs/2602.12205"
    assert [i.title[:6] for i in fetch(source(local_server, max_items=1)).items] == ["DeepGe"]


def test_links_follow_site_url(local_server: LocalServer) -> None:
    serve(local_server, SAMPLE[:1])
    (item,) = fetch(source(local_server, site_url="https://hf.example.org/")).items
    assert item.url == "https://hf.example.org/papers/2602.12205"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("<!doctype html><p>Hugging Face is down", "not JSON"),
        ('{"error": "Invalid date"}', "expected a list of papers, got a JSON dict"),
        ('[{"title": "x"}, 3]', "none of the 2 entries is a paper"),
    ],
)
def test_malformed_answers_are_clear_source_errors(
    local_server: LocalServer, body: str, problem: str
) -> None:
    serve(local_server, body)
    with pytest.raises(SourceError, match=problem):
        fetch(source(local_server))


def test_server_error_is_a_source_error(local_server: LocalServer) -> None:
    local_server.add(PATH, "busy", status=500, content_type="text/plain")
    with pytest.raises(SourceError, match="500"):
        fetch(source(local_server))


def test_registered_as_a_plugin(plugin_manager: Any) -> None:
    registration = plugin_manager.sources.get("hf-papers")
    assert registration is not None and registration.cls is HfPapersSource


# -- captured responses from the real API ---------------------------------------------------------


@pytest.fixture
def captured(shared_fixtures: Path) -> Path:
    return shared_fixtures / "hf_papers"


def test_captured_2026_answer(local_server: LocalServer, captured: Path) -> None:
    local_server.add_file(
        PATH,
        captured / "ai-weekly-radar_api_daily_papers_limit25_2026-07.json",
        content_type="application/json",
    )
    run = fetch(source(local_server, max_items=100))
    items = run.items
    assert not run.warnings and len(items) == 25
    first = items[0]
    assert first.title.startswith("MedPMC: A Systematic Framework for Scaling High-Fidelity")
    assert first.url == "https://huggingface.co/papers/2607.07673"
    assert first.links["paper"] == "https://arxiv.org/abs/2607.07673"
    assert first.links["code"] == "https://github.com/Yale-BIDS-Chen-Lab/MedPMC"
    assert first.metrics == {"upvotes": 0, "comments": 1, "github_stars": 1}
    assert len(first.authors) == 28 and first.authors[0] == "Hyunjae Kim"
    assert first.published == dt.datetime(2026, 7, 13, tzinfo=dt.UTC)
    assert first.extra["organization"] == "Yale-BIDS-Chen-Lab"
    by_id = {i.extra["arxiv_id"]: i for i in items}
    assert by_id["2601.16211"].metrics["upvotes"] == 48
    assert by_id["2607.08964"].metrics == {"upvotes": 38, "comments": 1, "github_stars": 25}
    assert "code" not in by_id["2607.06957"].links
    assert len(by_id) == 25
    popular = fetch(source(local_server, min_upvotes=30)).items
    assert sorted(i.metrics["upvotes"] for i in popular) == [31, 32, 34, 38, 48]


def test_captured_2024_answer(local_server: LocalServer, captured: Path) -> None:
    """The 2024 shape: no submittedOnDailyAt, no organization or repository."""
    local_server.add_file(
        PATH,
        captured / "paper-reviewer_daily_papers_2024-10-25_first4.json",
        content_type="application/json",
    )
    items = fetch(source(local_server)).items
    assert [i.extra["arxiv_id"] for i in items] == [
        "2410.17243",
        "2410.16251",
        "2410.18533",
        "2410.18693",
    ]
    first = items[0]
    # Hard-wrapped titles are unwrapped.
    assert first.title == (
        "Breaking the Memory Barrier: Near Infinite Batch Size Scaling for Contrastive Loss"
    )
    assert first.metrics == {"upvotes": 64, "comments": 3}
    assert first.published == dt.datetime(2024, 10, 25, 0, 57, 9, 392000, tzinfo=dt.UTC)
    assert "\n" not in first.summary
