"""What readers see of stories, links and signals, in both first-party themes: the source
line of a story several sources reported, labelled counts, link rows labelled by what each
link is, declared fields, original titles, the subject, the text part's links, and the web
edition's social tags, item anchors and signup form."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from lxml import html as lxml_html
from test_render import plugins as render_plugins
from test_render import run, write_config

from newsroom import Edition, Item, ItemSource, Newsletter, Section
from newsroom.core.plugins import Plugins
from newsroom.core.sanitize import sanitize_edition

THEMES = ["default", "briefing"]


@pytest.fixture(scope="module")
def plugins() -> Plugins:
    """Every installed plugin and a local source for the config (as test_render's)."""
    return render_plugins.__wrapped__()  # type: ignore[attr-defined, no-any-return]


def story() -> Item:
    """DeepGen as three sources reported it, merged by ``dedupe``."""
    return Item(
        url="https://arxiv.org/abs/2602.12205",
        title="DeepGen 1.0: 경량 5B 통합 멀티모달 모델",
        original_title="DeepGen 1.0: A Lightweight Unified Multimodal Model",
        summary="<p>5B 파라미터로 80B 모델을 앞선 통합 멀티모달 모델.</p>",
        kind="paper",
        source="papers",
        publisher="arXiv",
        published=dt.datetime(2026, 2, 13, 1, tzinfo=dt.UTC),
        metrics={"upvotes": 87, "comments": 6, "stars": 2146, "stars_period": 1203},
        links={
            "pdf": "https://arxiv.org/pdf/2602.12205v1",
            "huggingface": "https://huggingface.co/papers/2602.12205",
            "code": "https://github.com/DeepGenTeam/DeepGen",
        },
        sources=[
            ItemSource(
                source="papers",
                url="https://arxiv.org/abs/2602.12205",
                kind="paper",
                publisher="arXiv",
                links={"pdf": "https://arxiv.org/pdf/2602.12205v1"},
            ),
            ItemSource(
                source="hf-papers",
                url="https://huggingface.co/papers/2602.12205",
                kind="huggingface",
                publisher="HF Daily Papers",
                metrics={"upvotes": 87, "comments": 6},
                links={
                    "paper": "https://arxiv.org/abs/2602.12205",
                    "pdf": "https://arxiv.org/pdf/2602.12205",
                    "code": "https://github.com/DeepGenTeam/DeepGen",
                },
            ),
            ItemSource(
                source="trending",
                url="https://github.com/DeepGenTeam/DeepGen",
                kind="repository",
                publisher="GitHub",
                metrics={"stars": 2146, "stars_period": 1203},
                extra={"since": "daily"},
            ),
        ],
        fields={
            "요약": "<p>세 단계 학습으로 성능을 끌어올렸다.</p>",
            "시사점": '<p>작은 모델도 <a href="https://example.org/why">충분하다</a>.</p>',
        },
    )


def thread() -> Item:
    return Item(
        url="https://www.reuters.com/world/taiwan-raises-growth-forecast/?utm_source=hn",
        title="Taiwan raises 2026 growth forecast to 7.7%",
        kind="discussion",
        source="hn",
        publisher="Hacker News",
        metrics={"points": 198, "comments": 141},
        links={"discussion": "https://news.ycombinator.com/item?id=46786120"},
    )


def launch() -> Item:
    return Item(
        url="https://www.producthunt.com/products/wisprflow",
        title="Wispr Flow",
        kind="product",
        source="launches",
        publisher="Product Hunt",
        metrics={"votes": 412},
        links={"website": "https://www.producthunt.com/r/p/1075882?app_id=339"},
    )


INTRO = (
    '<p>오늘은 <a href="https://arxiv.org/abs/2602.12205">DeepGen</a>과 대만 소식입니다.</p>'
    "<ol><li>첫째, 작은 모델</li><li>둘째, "
    '<a href="https://www.aitimes.com/news/articleView.html?idxno=207071">반도체</a></li></ol>'
)
INSIGHT = (
    "<ol><li>에이전트 경쟁</li><li>경량 모델의 부상 "
    '(<a href="https://github.com/DeepGenTeam/DeepGen">코드</a>)</li></ol>'
)


def edition(language: str = "ko", subject: str = "") -> Edition:
    return sanitize_edition(
        Edition(
            id="2026-02-14",
            date=dt.date(2026, 2, 14),
            title="AI 브리핑 2026년 2월 14일" if language == "ko" else "AI Briefing",
            subject=subject,
            newsletter=Newsletter(
                title="AI 브리핑" if language == "ko" else "AI Briefing",
                language=language,
                timezone="Asia/Seoul",
                base_url="https://example.org/ai/",
                description="매일 아침 AI 소식",
            ),
            generated_at=dt.datetime(2026, 2, 13, 21, tzinfo=dt.UTC),
            intro=INTRO,
            insight=INSIGHT,
            sections=[
                Section(id="papers", title="📄 논문 동향", items=[story()]),
                Section(id="community", title="🗣️ 커뮤니티", items=[thread()]),
                Section(id="launches", title="🚀 제품 출시", items=[launch()]),
            ],
        )
    )


def render(
    tmp_path: Path, plugins: Plugins, ed: Edition, theme: str, extra: str = ""
) -> dict[str, Path]:
    config = write_config(
        tmp_path,
        plugins,
        language=ed.language,
        base_url="https://example.org/ai/",
        theme=theme,
        extra=extra,
    )
    return run(config, plugins, ed)


def text_of(path: Path) -> str:
    return " ".join(lxml_html.document_fromstring(path.read_text("utf-8")).text_content().split())


@pytest.mark.parametrize("theme", THEMES)
def test_a_story_shows_every_source_and_every_count_with_korean_labels(
    tmp_path: Path, plugins: Plugins, theme: str
) -> None:
    files = render(tmp_path, plugins, edition(), theme)
    for name in ("email.html", "edition_page"):
        shown = text_of(files[name])
        assert "출처 arXiv · HF Daily Papers · GitHub" in shown.replace("출처:", "출처")
        assert "추천 87개" in shown and "댓글 6개" in shown
        assert "★ 스타 2,146개 (오늘 +1,203)" in shown
        assert "점수" not in shown and "198점" in shown  # Hacker News points
        assert "▲ 412표" in shown  # Product Hunt votes
        # Each link of the story once, labelled by what it is.
        doc = lxml_html.document_fromstring(files[name].read_text("utf-8"))
        row = [
            (a.text_content(), a.get("href"))
            for p in doc.iter("p")
            if "links" in (p.get("class") or "")
            for a in p.iter("a")
        ]
        assert row[:4] == [
            ("논문", "https://arxiv.org/abs/2602.12205"),
            ("PDF", "https://arxiv.org/pdf/2602.12205v1"),
            ("Hugging Face", "https://huggingface.co/papers/2602.12205"),
            ("코드", "https://github.com/DeepGenTeam/DeepGen"),
        ]
        # The thread's own link is the article; its thread is the discussion.
        assert row[4:6] == [
            ("원문", "https://www.reuters.com/world/taiwan-raises-growth-forecast/"),
            ("토론", "https://news.ycombinator.com/item?id=46786120"),
        ]
        # The website's label is translated and its link has no tracking parameter.
        assert row[7] == ("웹사이트", "https://www.producthunt.com/r/p/1075882")
        assert "utm_" not in files[name].read_text("utf-8")
        # Declared fields, in order, under the summary.
        assert shown.index("5B 파라미터로") < shown.index("요약") < shown.index("시사점")
    assert "DeepGen 1.0: A Lightweight Unified Multimodal Model" in files["edition_page"].read_text(
        "utf-8"
    )


def test_english_labels(tmp_path: Path, plugins: Plugins) -> None:
    files = render(tmp_path, plugins, edition("en"), "default")
    shown = text_of(files["email.html"])
    for label in (
        "87 upvotes",
        "6 comments",
        "★ 2,146 stars (+1,203 today)",
        "198 points",
        "▲ 412 votes",
    ):
        assert label in shown, label
    assert "Article · Discussion" in shown and "Website" in shown


@pytest.mark.parametrize("theme", THEMES)
def test_the_editions_subject_is_the_emails_subject(
    tmp_path: Path, plugins: Plugins, theme: str
) -> None:
    files = render(tmp_path, plugins, edition(subject="DeepGen이 연 경량 모델 경쟁"), theme)
    meta = json.loads(files["email.json"].read_text("utf-8"))
    assert meta["subject"] == "DeepGen이 연 경량 모델 경쟁"
    assert "<title>DeepGen이 연 경량 모델 경쟁</title>" in files["email.html"].read_text("utf-8")
    # Without one, the edition's title.
    plain = render(tmp_path / "plain", plugins, edition(), theme)
    assert json.loads(plain["email.json"].read_text("utf-8"))["subject"] == edition().title


@pytest.mark.parametrize("theme", THEMES)
def test_the_text_part_keeps_every_link_and_numbered_lists(
    tmp_path: Path, plugins: Plugins, theme: str
) -> None:
    files = render(tmp_path, plugins, edition(), theme)
    doc = lxml_html.document_fromstring(files["email.html"].read_text("utf-8"))
    hrefs = {a.get("href") for a in doc.iter("a") if a.get("href", "").startswith("http")}
    text = files["email.txt"].read_text("utf-8")
    assert hrefs and not [h for h in hrefs if h not in text]
    # A link in the intro is a numbered reference, listed under the intro.
    assert "DeepGen [1]과" in text
    assert "\n[1] https://arxiv.org/abs/2602.12205\n" in text
    assert "\n[2] https://www.aitimes.com/news/articleView.html?idxno=207071\n" in text
    # Numbered lists stay numbered (the intro's and the insight's).
    assert re.search(r"(?m)^1\. 첫째, 작은 모델$", text)
    assert re.search(r"(?m)^2\. 경량 모델의 부상 \(코드 \[1\]\)$", text)
    # Under the item: the field's link, then the link row.
    assert "   작은 모델도 충분하다 [1]." in text
    assert "   [1] https://example.org/why\n" in text
    assert "   원문: https://www.reuters.com/world/taiwan-raises-growth-forecast/\n" in text
    assert "   토론: https://news.ycombinator.com/item?id=46786120\n" in text


def _social(page: Path) -> dict[str, str]:
    doc = lxml_html.document_fromstring(page.read_text("utf-8"))
    return {
        (m.get("property") or m.get("name")): m.get("content")
        for m in doc.iter("meta")
        if (m.get("property") or m.get("name") or "").startswith(("og:", "twitter:", "article:"))
    }


@pytest.mark.parametrize("theme", THEMES)
def test_the_web_edition_has_social_tags_item_anchors_and_a_signup_form(
    tmp_path: Path, plugins: Plugins, theme: str
) -> None:
    ed = edition()
    files = render(
        tmp_path,
        plugins,
        ed,
        theme,
        extra='[subscriptions]\nurl = "https://example.org/ai/subscription/"\n',
    )
    page = files["edition_page"]
    tags = _social(page)
    assert tags["og:type"] == "article"
    assert tags["og:title"] == ed.title == tags["twitter:title"]
    assert tags["og:url"] == "https://example.org/ai/editions/2026-02-14/"
    assert tags["og:description"].startswith("오늘은 DeepGen과 대만 소식입니다.")
    assert tags["og:locale"] == "ko" and tags["twitter:card"] == "summary"
    assert tags["article:published_time"].startswith("2026-02-13T21:00:00")
    assert _social(files["index.html"])["og:type"] == "website"

    doc = lxml_html.document_fromstring(page.read_text("utf-8"))
    (item,) = doc.get_element_by_id("papers-1").iter("li")
    anchor = item.find_class("nr-anchor")[0]
    assert anchor.get("href") == "https://example.org/ai/editions/2026-02-14/#papers-1"
    for name in ("edition_page", "index.html"):
        (form,) = lxml_html.document_fromstring(files[name].read_text("utf-8")).forms
        assert form.method == "POST"
        assert form.action == "https://example.org/ai/subscription/subscribe"
        assert set(form.fields) == {"email", "name", "website"}  # as `newsroom serve` reads

    # No subscription service, no form.
    plain = render(tmp_path / "plain", plugins, ed, theme)
    assert not lxml_html.document_fromstring(plain["edition_page"].read_text("utf-8")).forms
