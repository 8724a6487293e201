"""One story, one item: ``dedupe`` merging the reports of a story from real source output,
and the rules of which report leads and which section takes it (docs/stories.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from newsroom_filters import Dedupe
from newsroom_filters.references import references
from newsroom_hackernews import HackerNewsSource
from newsroom_hf_papers import HfPapersSource
from newsroom_news import NewsSource
from newsroom_sections import Select

from newsroom import FilterContext, Item, SectionLayout
from newsroom.testing import LocalServer, run_source

NOW = dt.datetime(2026, 7, 13, 6, 0, tzinfo=dt.UTC)
REDDIT = "reddit/ai-weekly-radar_r-LocalLLaMA_top.rss_t-week_2026-07-13.atom.xml"
ALGOLIA = "hackernews/ai-weekly-radar_algolia_search_show_hn_2026-07.json"
DAILY_PAPERS = "hf_papers/ai-weekly-radar_api_daily_papers_limit25_2026-07.json"


def sections(*tables: tuple[str, dict[str, Any]]) -> dict[str, SectionLayout]:
    return {sid: Select(Select.Options(match=match), instance=sid) for sid, match in tables}


def context(layouts: dict[str, SectionLayout] | None = None) -> FilterContext:
    return FilterContext(
        newsletter_title="AI 브리핑",
        language="ko",
        timezone=ZoneInfo("Asia/Seoul"),
        now=NOW,
        sections=layouts or {},
    )


def merged(items: list[Item], layouts: dict[str, SectionLayout] | None = None) -> list[Item]:
    result = Dedupe().apply(items, context(layouts))
    return items if result is None else result


def paper(arxiv_id: str, title: str, **fields: Any) -> Item:
    return Item(
        url=f"https://arxiv.org/abs/{arxiv_id}",
        title=title,
        source="papers",
        kind="paper",
        publisher="arXiv",
        links={"pdf": f"https://arxiv.org/pdf/{arxiv_id}v1"},
        extra={"arxiv_id": arxiv_id},
        **fields,
    )


def repository(full_name: str, **fields: Any) -> Item:
    return Item(
        url=f"https://github.com/{full_name}",
        title=full_name,
        source="trending",
        kind="repository",
        publisher="GitHub",
        metrics={"stars": 2146, "stars_period": 1203},
        extra={"since": "daily"},
        **fields,
    )


# -- real reports of real stories ------------------------------------------------------------


def test_a_reddit_link_post_and_a_show_hn_of_one_repository_are_one_story(
    local_server: LocalServer, shared_fixtures: Path
) -> None:
    # Captured the same week: r/LocalLLaMA's "GLM-5.2 (744B MoE) on a 25GB-RAM consumer
    # machine" links github.com/JustVugg/colibri, and so does "Show HN: Getting GLM 5.2
    # running on my slow computer". Their titles have little in common.
    feed = local_server.add_file("/r/LocalLLaMA/top.rss", shared_fixtures / REDDIT)
    local_server.add_file(
        "/api/v1/search", shared_fixtures / ALGOLIA, content_type="application/json"
    )
    reddit = run_source(
        NewsSource(NewsSource.Options(feeds=[feed], kind="discussion"), instance="reddit"),
        now=NOW,
    ).items
    hn = run_source(
        HackerNewsSource(
            HackerNewsSource.Options(
                search_url=local_server.url + "/api/v1", search={"tags": "show_hn"}
            ),
            instance="hn",
        ),
        now=NOW,
    ).items
    for item in reddit:
        item.source = "reddit"
    for item in hn:
        item.source = "hn"
    post = next(i for i in reddit if i.title.startswith("GLM-5.2 (744B MoE)"))
    # The news source finds the page a Reddit link post discusses ...
    assert post.links["article"] == "https://github.com/JustVugg/colibri"
    # ... and leaves out Reddit's own image and video hosts (not articles).
    assert not any("redd.it" in i.links.get("article", "") for i in reddit)

    items = reddit + hn
    kept = merged(items, sections(("community", {"source": ["reddit", "hn"]})))
    assert len(kept) == len(items) - 1
    (story,) = [i for i in kept if len(i.sources) > 1]
    assert story.title == post.title and story.source == "reddit"  # the first report leads
    assert [(s.source, s.kind, s.url) for s in story.sources] == [
        ("reddit", "discussion", post.url),
        ("hn", "article", "https://github.com/JustVugg/colibri"),
    ]
    # The thread on Hacker News and its counts are kept, with the source that gave them.
    assert story.sources[1].links == {"discussion": "https://news.ycombinator.com/item?id=48842459"}
    assert story.sources[1].metrics == {"points": 920, "comments": 234}
    assert story.metrics == {"points": 920, "comments": 234}
    assert story.extra["metric_sources"] == {"points": "hn", "comments": "hn"}
    assert story.section == "community"
    # Posts that only mention a repository in their text ("jacobian-lens" in two) are not
    # that repository, and stay two posts.
    lens = [i for i in kept if "github.com/anthropics/jacobian-lens" in i.summary]
    assert len(lens) == 2


def test_a_paper_its_daily_papers_entry_repository_and_thread_are_one_story(
    local_server: LocalServer, shared_fixtures: Path
) -> None:
    local_server.add_file(
        "/api/daily_papers", shared_fixtures / DAILY_PAPERS, content_type="application/json"
    )
    daily = run_source(
        HfPapersSource(HfPapersSource.Options(base_url=local_server.url), instance="hf-papers"),
        now=NOW,
    ).items
    for item in daily:
        item.source = "hf-papers"
    entry = next(i for i in daily if i.extra["arxiv_id"] == "2607.07673")
    items = [
        paper("2607.07673", "MedPMC: A Systematic Framework for Scaling Medical Data"),
        # A thread linking the PDF of another version.
        Item(
            url="https://arxiv.org/pdf/2607.07673v2",
            title="MedPMC: scaling high-fidelity medical instruction data",
            source="hn",
            kind="discussion",
            publisher="Hacker News",
            metrics={"points": 77, "comments": 12},
            links={"discussion": "https://news.ycombinator.com/item?id=1"},
        ),
        *daily,
        repository("Yale-BIDS-Chen-Lab/MedPMC"),
    ]
    layouts = sections(
        ("papers", {"source": "papers"}),
        ("models", {"source": "hf-papers"}),
        ("github", {"source": "trending"}),
        ("community", {"source": "hn"}),
    )
    kept = merged(items, layouts)
    assert len(kept) == len(items) - 3
    story = kept[0]
    assert story.url == "https://arxiv.org/abs/2607.07673" and story.section == "papers"
    assert [s.source for s in story.sources] == ["papers", "hn", "hf-papers", "trending"]
    assert [s.kind for s in story.sources] == ["paper", "article", "huggingface", "repository"]
    assert story.links == {
        # The thread's own link is another version of the PDF: one link is enough.
        "pdf": "https://arxiv.org/pdf/2607.07673v1",
        "discussion": "https://news.ycombinator.com/item?id=1",
        "huggingface": "https://huggingface.co/papers/2607.07673",
        "code": "https://github.com/Yale-BIDS-Chen-Lab/MedPMC",
    }
    # Every count, from every source.
    assert story.metrics == {
        "points": 77,
        "comments": 12,
        "upvotes": entry.metrics["upvotes"],
        "github_stars": 1,
        "stars": 2146,
        "stars_period": 1203,
    }
    # The paper's summary was empty: the longest of the others' is kept.
    assert story.summary == entry.summary
    assert not any(i.extra.get("arxiv_id") == "2607.07673" for i in kept[1:])


# -- the cross-references ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "https://arxiv.org/abs/2602.12205",
        "https://arxiv.org/abs/2602.12205v3",
        "https://arxiv.org/pdf/2602.12205v2",
        "http://www.arxiv.org/pdf/2602.12205",
        "https://hf.co/papers/2602.12205",
        "https://huggingface.co/papers/2602.12205",
        "<p>Our paper (arXiv:2602.12205) is out.</p>",
        "<p>논문: arXiv 2602.12205</p>",
        "[2602.12205] DeepGen",  # in a title, an id needs no "arXiv"
    ],
)
def test_every_form_of_an_arxiv_id_names_the_paper(text: str) -> None:
    reports = [
        paper("2602.12205", "DeepGen 1.0"),
        Item(url="https://example.org/post", title="A post", source="blog", summary=text),
    ]
    if text.startswith("http"):
        reports[1] = Item(url=text, title="Some thread", source="hn")
    elif text.startswith("["):
        reports[1] = Item(url="https://example.org/post", title=text, source="hn")
    (story,) = merged(reports)
    assert [s.source for s in story.sources] == ["papers", "blog" if "<" in text else "hn"]


def test_a_bare_number_in_a_summary_is_an_arxiv_id_only_where_arxiv_is_named() -> None:
    reports = [
        paper("2602.12205", "DeepGen 1.0"),
        Item(url="https://example.org/q", title="Results", summary="<p>Up 2602.12205%</p>"),
    ]
    assert len(merged(reports)) == 2


@pytest.mark.parametrize(
    "text",
    [
        "<p>Price: 1.2602.12205 won</p>",  # digits around it
        "<p>version 2613.12205</p>",  # no 13th month
        "<p>see 2602.1220 for details</p>",  # too few digits for an id
    ],
)
def test_numbers_that_only_look_like_arxiv_ids_name_no_paper(text: str) -> None:
    reports = [
        paper("2602.12205", "DeepGen"),
        Item(url="https://example.org/post", title="Quarterly figures", summary=text, source="b"),
    ]
    assert len(merged(reports)) == 2


def test_repositories_and_tracking_parameters() -> None:
    ref = references(
        Item(
            url="https://news.example/a?utm_source=rss",
            title="x",
            summary='<a href="https://github.com/Acme/Kit.git">code</a> '
            "https://github.com/trending/python https://gist.github.com/bob/abc123 "
            "https://huggingface.co/acme/kit-7b https://huggingface.co/blog/post",
        )
    )
    assert ref.identity == ("url:https://news.example/a",)
    assert ref.mentions == ("hf:acme/kit-7b", "repo:acme/kit")


def test_two_papers_citing_one_repository_stay_two_papers() -> None:
    cited = '<p>Built on <a href="https://github.com/pytorch/pytorch">PyTorch</a>.</p>'
    reports = [
        paper("2602.00001", "A", summary=cited),
        paper("2602.00002", "B", summary=cited),
        repository("pytorch/pytorch"),
    ]
    # The repository is neither paper: each paper only mentions it. And the two papers
    # cannot both join the repository's story, since they are two different papers.
    kept = merged(reports)
    assert [len(i.sources) for i in kept] == [2, 0]
    assert [s.url for s in kept[0].sources] == [
        "https://arxiv.org/abs/2602.00001",
        "https://github.com/pytorch/pytorch",
    ]


def test_different_papers_never_merge_however_alike_their_titles() -> None:
    reports = [
        paper("2602.00001", "Scaling laws for sparse mixture-of-experts models"),
        Item(
            url="https://huggingface.co/papers/2602.00002",
            title="Scaling laws for sparse mixture-of-experts models",
            source="hf-papers",
            extra={"arxiv_id": "2602.00002"},
        ),
    ]
    assert len(merged(reports)) == 2
    reports[1].extra["arxiv_id"] = "2602.00001"
    reports[1].url = "https://huggingface.co/papers/2602.00001"
    assert len(merged(reports)) == 1


def test_a_distinctive_repository_name_in_a_title_joins_the_repository() -> None:
    reports = [
        repository("DeepGenTeam/DeepGen"),
        Item(
            url="https://www.aitimes.kr/news/articleView.html?idxno=37526",
            title="[논문 리뷰] 통합 멀티모달 모델 'DeepGen 1.0'은 무엇이 다른가",
            source="news-kr",
        ),
        repository("pathwaycom/pathway"),
        Item(url="https://example.org/p", title="A clear pathway to AGI", source="news-kr"),
        Item(url="https://example.org/q", title="DeepGenomics raises $10M", source="news-kr"),
        # An ordinary-looking name counts where the title writes it as a name.
        repository("google-deepmind/alphagenome"),
        Item(url="https://example.org/r", title="AlphaGenome: AI for the genome", source="hn"),
        Item(url="https://example.org/s", title="Pathway raises a seed round", source="hn"),
    ]
    kept = merged(reports)
    assert [len(i.sources) for i in kept] == [2, 0, 0, 0, 2, 0]


def test_a_translated_title_meets_the_story_in_the_other_language() -> None:
    reports = [
        Item(
            url="https://www.reuters.com/taiwan-growth",
            title="대만, 2026년 성장률 전망 7.7%로 상향",
            original_title="Taiwan raises 2026 growth forecast to 7.7%",
            source="hn",
        ),
        Item(
            url="https://www.aitimes.com/207071",
            title="대만, 2026년 성장률 전망 7.7%로 상향",
            source="news",
        ),
        Item(
            url="https://example.com/t",
            title="Taiwan raises 2026 growth forecast to 7.7%!",
            source="wire",
        ),
    ]
    (story,) = merged(reports)
    assert [s.source for s in story.sources] == ["hn", "news", "wire"]


# -- which report leads, and where the story goes --------------------------------------------


def test_the_first_section_that_would_take_any_report_takes_the_story() -> None:
    reports = [
        Item(
            url="https://huggingface.co/papers/2602.11902",
            title="RAG-Anything: All-in-One Retrieval-Augmented Generation",
            source="hf-papers",
            kind="paper",
            summary="<p>A framework.</p>",
            links={"code": "https://github.com/HKUDS/RAG-Anything"},
        ),
        repository("HKUDS/RAG-Anything", summary="A longer description of the repository."),
    ]
    # "github" comes first in the config: the repository leads, in that section.
    layouts = sections(("github", {"source": "trending"}), ("models", {"source": "hf-papers"}))
    (story,) = merged(reports, layouts)
    assert (story.title, story.section, story.kind) == (
        "HKUDS/RAG-Anything",
        "github",
        "repository",
    )
    assert story.summary == "A longer description of the repository."
    # The other order: the paper leads, in "models".
    layouts = sections(("models", {"source": "hf-papers"}), ("github", {"source": "trending"}))
    (story,) = merged(reports, layouts)
    assert (story.source, story.section) == ("hf-papers", "models")
    assert story.summary == "<p>A framework.</p>"  # the lead's own, not the longest
    # A filter's assignment wins over the rules.
    reports[1].section = "models"
    (story,) = merged(reports, sections(("github", {"source": "trending"}), ("models", {})))
    assert (story.source, story.section) == ("trending", "models")


def test_without_sections_the_first_report_leads_and_a_second_pass_changes_nothing() -> None:
    reports = [
        paper("2602.12205", "DeepGen 1.0"),
        repository("DeepGenTeam/DeepGen"),
        Item(url="https://huggingface.co/papers/2602.12205", title="DeepGen", source="hf"),
    ]
    once = merged(reports)
    (story,) = once
    assert story.source == "papers" and story.section is None
    assert Dedupe().apply(once, context()) is None
    # Merged again with a late report, every source is still there once.
    (again,) = merged([*once, Item(url="https://x.example/", title="DeepGen 1.0", source="z")])
    assert [s.source for s in again.sources] == ["papers", "trending", "hf", "z"]
