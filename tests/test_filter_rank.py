"""The rank filter: freshness, metrics normalised within each source, keywords; and the
worked example of docs/ranking.md, number for number."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from newsroom_filters import Dedupe, Rank
from pydantic import ValidationError

from newsroom import FilterContext, Item

ROOT = Path(__file__).resolve().parent.parent
NOW = dt.datetime(2026, 2, 13, 21, 0, tzinfo=dt.UTC)  # 06:00 on 14 February in Seoul


def context() -> FilterContext:
    return FilterContext(
        newsletter_title="AI 브리핑", language="ko", timezone=ZoneInfo("Asia/Seoul"), now=NOW
    )


def item(
    title: str,
    source: str,
    *,
    hours: float | None = None,
    **metrics: float,
) -> Item:
    return Item(
        url=f"https://example.org/{source}/{abs(hash(title))}",
        title=title,
        source=source,
        published=NOW - dt.timedelta(hours=hours) if hours is not None else None,
        metrics=metrics,
    )


def rank(items: list[Item], **options: object) -> list[Item]:
    result = Rank(Rank.Options(**options)).apply(items, context())
    assert result is not None
    return result


def by_score(items: list[Item]) -> list[str]:
    ordered = sorted(items, key=lambda i: i.score or 0.0, reverse=True)
    return [i.title for i in ordered]


# The worked example, as docs/ranking.md shows it.
EXAMPLE = [
    item("acme/agent-kit", "trending", stars_period=2001),
    item("acme/tiny-db", "trending", stars_period=480),
    item("acme/notes", "trending", stars_period=120),
    item("Claude Cowork: 에이전트가 Windows로", "hn", hours=12, points=412),
    item("Show HN: A chess engine", "hn", hours=24, points=95),
]
EXAMPLE_OPTIONS = {
    "metrics": {"stars_period": 1.0, "points": 1.0},
    "keywords": {"에이전트": 0.5, "agent": 0.5},
}


def test_worked_example() -> None:
    ranked = rank(EXAMPLE, **EXAMPLE_OPTIONS)
    scores = {i.title: i.score for i in ranked}
    assert scores == {
        "acme/agent-kit": 2.0,  # undated 0.5 + best of its source 1.0 + "agent" 0.5
        "acme/tiny-db": 1.0,
        "acme/notes": 0.5,
        "Claude Cowork: 에이전트가 Windows로": 2.2071,  # 0.5^(12/24) + 1.0 + 0.5
        "Show HN: A chess engine": 0.5,
    }
    assert by_score(ranked)[:2] == ["Claude Cowork: 에이전트가 Windows로", "acme/agent-kit"]
    assert ranked[3].extra["score_parts"] == {
        "recency": 0.7071,
        "metric:points": 1.0,
        "keyword:에이전트": 0.5,
    }
    # The input is left as it was.
    assert all(i.score is None for i in EXAMPLE)


def test_worked_example_matches_the_docs() -> None:
    text = (ROOT / "docs" / "ranking.md").read_text("utf-8")
    section = text.split("## A worked example", 1)[1]
    toml = re.search(r"```toml\n(.*?)```", section, re.S)
    assert toml, "the worked example's configuration"
    (table,) = tomllib.loads(toml.group(1))["filters"]
    options = {k: v for k, v in table.items() if k != "plugin"}
    assert options == EXAMPLE_OPTIONS
    ranked = rank(EXAMPLE, **options)
    for item_ in ranked:
        row = next(line for line in section.splitlines() if f"| {item_.title} |" in line)
        assert row.rstrip(" |").endswith(f"{item_.score:g}"), row


def test_metrics_are_compared_within_their_source_only() -> None:
    # 30 stars beat 10,000 points when they are the best of their own source.
    ranked = rank(
        [
            item("repo", "trending", stars_period=30),
            item("small repo", "trending", stars_period=5),
            item("story a", "hn", points=10_000),
            item("story b", "hn", points=20_000),
        ],
        recency=0,
    )
    assert [i.score for i in ranked] == [1.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("normalize", ["percentile", "log"])
def test_a_value_alone_in_its_source_is_neutral(normalize: str) -> None:
    # One repository among the stories: nothing says whether its 3 stars are much or little.
    ranked = rank(
        [
            item("repo", "trending", stars_period=3),
            item("story a", "hn", points=400),
            item("story b", "hn", points=0),
        ],
        recency=0,
        normalize=normalize,
    )
    assert [i.score for i in ranked] == [0.5, 1.0, 0.0]
    assert ranked[0].extra["score_parts"] == {"metric:stars_period": 0.5}


def test_a_metric_a_duplicate_brought_is_compared_within_the_source_that_reported_it() -> None:
    paper = "https://huggingface.co/papers/2602.12205"
    items = [
        Item(url=paper, title="DeepGen", source="hf", metrics={"upvotes": 40}),
        Item(
            url="https://huggingface.co/papers/2",
            title="dVoting",
            source="hf",
            metrics={"upvotes": 10},
        ),
        Item(
            url="https://example.org/big", title="Big story", source="hn", metrics={"points": 400}
        ),
        Item(url="https://example.org/mid", title="Mid story", source="hn", metrics={"points": 50}),
        # The paper again, barely noticed on Hacker News.
        Item(url=paper, title="DeepGen on HN", source="hn", metrics={"points": 2}),
    ]
    deduped = Dedupe().apply(items, context())
    assert deduped is not None
    merged = deduped[0]
    assert merged.metrics == {"upvotes": 40, "points": 2}
    assert merged.extra["metric_sources"] == {"points": "hn"}
    assert "metric_sources" not in deduped[1].extra

    ranked = {i.title: i for i in rank(deduped, recency=0)}
    # Its 2 points are the fewest of Hacker News's, not the most of the papers'.
    assert ranked["DeepGen"].extra["score_parts"] == {"metric:upvotes": 1.0, "metric:points": 0.0}
    assert ranked["Big story"].score == 1.0
    assert ranked["Mid story"].score == 0.5
    assert ranked["DeepGen"].score == 1.0  # the best paper, and nothing for its points


def test_metric_sources_pass_through_a_second_dedupe() -> None:
    paper = "https://huggingface.co/papers/2602.12205"
    first = Dedupe().apply(
        [
            Item(url=paper, title="DeepGen", source="hf", metrics={"upvotes": 40}),
            Item(url=paper, title="DeepGen on HN", source="hn", metrics={"points": 2}),
        ],
        context(),
    )
    assert first is not None
    again = Dedupe().apply([Item(url=paper, title="DeepGen", source="arxiv"), *first], context())
    assert again is not None
    (merged,) = again
    assert merged.source == "arxiv"
    assert merged.metrics == {"upvotes": 40, "points": 2}
    assert merged.extra["metric_sources"] == {"upvotes": "hf", "points": "hn"}


def test_ties_share_the_middle_and_missing_metrics_get_nothing() -> None:
    ranked = rank(
        [
            item("a", "s", points=5),
            item("b", "s", points=5),
            item("c", "s", points=1),
            item("no points", "s"),
        ],
        recency=0,
    )
    assert [i.score for i in ranked] == [0.75, 0.75, 0.0, 0.0]
    assert ranked[3].extra["score_parts"] == {}


def test_log_normalisation_keeps_distances() -> None:
    ranked = rank(
        [item("a", "hn", points=400), item("b", "hn", points=40), item("c", "hn", points=0)],
        recency=0,
        normalize="log",
    )
    assert [i.score for i in ranked] == [1.0, 0.6196, 0.0]


def test_recency_halves_every_half_life_and_future_dates_count_as_now() -> None:
    ranked = rank(
        [item("now", "s", hours=0), item("old", "s", hours=12), item("soon", "s", hours=-2)],
        half_life=6,
        metrics={},
    )
    assert [i.score for i in ranked] == [1.0, 0.25, 1.0]
    (undated,) = rank([item("undated", "s")], undated=0.2, metrics={})
    assert undated.score == 0.2


def test_keywords_fold_case_and_width_and_may_push_down() -> None:
    items = [
        Item(url="https://example.org/1", title="ＡＩ 에이전트가 온다", source="s"),
        Item(url="https://example.org/2", title="Crypto agents", source="s"),
        Item(url="https://example.org/3", title="x", summary="<p>about <b>AGENTS</b></p>"),
    ]
    ranked = rank(items, recency=0, metrics={}, keywords={"ai": 1, "Agent": 2, "crypto": -5})
    assert [i.score for i in ranked] == [1.0, -3.0, 2.0]
    only_titles = rank(items, recency=0, metrics={}, keywords={"agent": 1}, fields=["title"])
    assert [i.score for i in only_titles] == [0.0, 1.0, 0.0]


def test_source_weights() -> None:
    ranked = rank(
        [item("p", "papers"), item("n", "news")], recency=0, metrics={}, sources={"papers": 0.5}
    )
    assert [i.score for i in ranked] == [0.5, 0.0]


def test_options_are_checked() -> None:
    with pytest.raises(ValidationError):
        Rank.Options(keywords={" ": 1.0})
    with pytest.raises(ValidationError):
        Rank.Options(half_life=0)
    with pytest.raises(ValidationError):
        Rank.Options(normalize="zscore")


def test_sections_order_by_the_score(tmp_path: Path) -> None:
    """Configured in newsroom.toml, the filter's scores order a section."""
    from test_pipeline import run

    result = run(
        tmp_path,
        '[[sources]]\nname = "s"\nplugin = "fixed"\ntitles = ["plain", "에이전트 뉴스", "x"]\n'
        '[[filters]]\nplugin = "rank"\nkeywords = { "에이전트" = 1.0, "x" = 0.5 }\n'
        '[[sections]]\nid = "all"\ntitle = "All"\norder = "score"\n',
    )
    assert [i.title for i in result.edition.items] == ["에이전트 뉴스", "x", "plain"]


def test_the_example_newsletter_ranks_its_community_and_models_sections(tmp_path: Path) -> None:
    """The example's Hacker News and Hugging Face Daily Papers items, ranked with the rest."""
    import asyncio
    import shutil

    from newsroom.config.newsletter import open_newsletter
    from newsroom.curate.pipeline import build
    from newsroom.testing import LocalServer

    example = ROOT / "examples" / "ai-briefing"
    shutil.copy(example / "newsroom.toml", tmp_path / "newsroom.toml")
    newsletter = open_newsletter(tmp_path / "newsroom.toml")
    now = dt.datetime.fromisoformat("2026-02-14T06:00:00+09:00")
    with LocalServer(example / "sample-data") as server:
        result = asyncio.run(
            build(newsletter.config, newsletter.plugins, now=now, mirror=server.url)
        )
    sections = {s.id: s.items for s in result.edition.sections}
    for name in ("community", "models"):
        scores = [i.score for i in sections[name]]
        assert None not in scores and scores == sorted(scores, reverse=True), name  # type: ignore[type-var]
    hn = [i for i in sections["community"] if i.source == "hn"]
    assert hn and all(i.metrics["points"] >= 100 for i in hn)  # min_points = 100
    assert any("metric:points" in i.extra["score_parts"] for i in hn)
    papers = [i for i in sections["models"] if i.source == "hf-papers"]
    assert papers and all(i.metrics["upvotes"] >= 5 for i in papers)
    # DeepGen came from arXiv and from the daily papers: one item, with the paper's upvotes.
    urls = [i.url for i in result.edition.items]
    assert "https://huggingface.co/papers/2602.12205" not in urls
    (deepgen,) = [i for i in result.edition.items if i.url == "https://arxiv.org/abs/2602.12205"]
    assert deepgen.source == "papers" and deepgen.metrics["upvotes"] == 87
