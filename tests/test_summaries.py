"""The extractive summarizer: sentence ends in Korean, English, Chinese and Japanese, markup
kept and closed, feed boilerplate removed; and the build's default summarizer."""

from __future__ import annotations

import html
import random
import types
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from canned import items_toml, run_build
from newsroom_summaries import Extractive, summarize
from newsroom_summaries.sentences import split_sentences

from newsroom import BuildError, Filter, hookimpl

# -- sentences -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "삼성이 HBM4 샘플 출하를 시작했다. 경쟁이 가속화된다! 정말일까요? 그렇습니다.",
            [
                "삼성이 HBM4 샘플 출하를 시작했다.",
                "경쟁이 가속화된다!",
                "정말일까요?",
                "그렇습니다.",
            ],
        ),
        (
            "We compare e.g. transformers. J. Smith et al. report 3.5x gains on the U.S. data. "
            "It works... mostly. Done.",
            [
                "We compare e.g. transformers.",
                "J. Smith et al. report 3.5x gains on the U.S. data.",
                "It works... mostly.",
                "Done.",
            ],
        ),
        (
            "新模型发布了。性能提升显著！你怎么看？",
            ["新模型发布了。", "性能提升显著！", "你怎么看？"],
        ),
        ("モデルを公開した。次は何か？", ["モデルを公開した。", "次は何か？"]),
        (
            "2026. 2. 14. 삼성전자가 발표했다. v2.0 버전은 example.com에서 받는다.",
            ["2026. 2. 14. 삼성전자가 발표했다.", "v2.0 버전은 example.com에서 받는다."],
        ),
        ("“출시했다.” 그리고 끝.", ["“출시했다.”", "그리고 끝."]),
        ("Headline without a period\nThe body.", ["Headline without a period", "The body."]),
    ],
)
def test_sentence_ends(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


# -- summaries -------------------------------------------------------------------------------


def test_keeps_the_first_sentences_and_inline_markup() -> None:
    source = (
        "<p>삼성이 <b>HBM4 샘플</b> 출하를 <a href='https://example.org/a?x=1&amp;y=2' "
        "onclick='steal()'>시작했다</a>. AI 메모리 경쟁이 가속화된다.</p><p>세 번째 문장이다.</p>"
    )
    assert summarize(source) == (
        '삼성이 <b>HBM4 샘플</b> 출하를 <a href="https://example.org/a?x=1&amp;y=2">시작했다</a>. '
        "AI 메모리 경쟁이 가속화된다."
    )
    assert summarize(source, sentences=1) == (
        '삼성이 <b>HBM4 샘플</b> 출하를 <a href="https://example.org/a?x=1&amp;y=2">시작했다</a>.'
    )


def test_never_cuts_through_markup() -> None:
    source = "<p><b>Bold start. <i>Italic and bold</i> go on.</b> Plain end.</p>"
    assert summarize(source, sentences=1) == "<b>Bold start.</b>"
    assert summarize(source, sentences=2) == "<b>Bold start. <i>Italic and bold</i> go on.</b>"
    # Unclosed tags in the source are closed in the summary.
    assert summarize("<p><em>Never closed. Second") == "<em>Never closed. Second</em>"


def test_paragraphs_and_lists_become_sentence_breaks() -> None:
    source = "<h3>A headline without a period</h3><ul><li>First point</li><li>Second</li></ul>"
    assert summarize(source, sentences=2) == "A headline without a period First point"
    # Plain text: a blank line is a paragraph, a single line break a hard wrap.
    assert summarize("Headline\n\nBody text. More.", sentences=1) == "Headline"
    assert summarize("An abstract that is\nhard-wrapped. Two.", sentences=1) == (
        "An abstract that is hard-wrapped."
    )


def test_max_chars_counts_text_not_markup() -> None:
    source = '<a href="https://example.org/a-very-long-address">짧다.</a> 둘째 문장. 셋째.'
    assert summarize(source, sentences=3, max_chars=10) == (
        '<a href="https://example.org/a-very-long-address">짧다.</a> 둘째 문장.'
    )


def test_a_long_first_sentence_is_cut_at_a_space_with_an_ellipsis() -> None:
    long = "<p>" + "에이전트 경쟁이 " * 40 + "치열하다.</p>"
    out = summarize(long, max_chars=50)
    assert out.endswith("…") and len(out) <= 51
    assert out == "에이전트 경쟁이 " * 5 + "에이전트…"
    # Inside a tag: the ellipsis goes before the closing tags.
    assert summarize("<b>" + "word " * 100 + "</b>", max_chars=20) == "<b>word word word word…</b>"


def test_text_without_spaces_is_cut_between_characters_never_inside_one() -> None:
    chinese = summarize("新模型" * 40 + "。", max_chars=10)
    assert chinese == "新模型新模型新模型新…"
    family = "👩\u200d👩\u200d👧\u200d👦"
    assert summarize(family * 10, max_chars=10) == family + "…"
    accents = "e\u0301" * 30  # "é" written as a letter and its combining accent
    out = summarize(accents, max_chars=9)
    assert out.removesuffix("…") == "e\u0301" * 4


def test_no_limits_and_empty_inputs() -> None:
    text = "One. Two. Three. Four."
    assert summarize(text, sentences=0, max_chars=0) == text
    for empty in ("", "   ", "<img src='x.png'>", "<script>alert(1)</script>", "<p> </p>"):
        assert summarize(empty) == ""


def test_escapes_text_and_drops_scripts() -> None:
    assert summarize(
        "<script>alert(1)</script>Plain &lt;tag&gt; &amp; more. Two.", sentences=1
    ) == ("Plain &lt;tag&gt; &amp; more.")


@pytest.mark.parametrize(
    ("source", "summary"),
    [
        (
            # Reddit
            '<!-- SC_OFF --><div class="md"><p>Genuine question: does churn matter?</p></div>'
            "<!-- SC_ON --> &#32; submitted by &#32; <a href='https://www.reddit.com/user/x'> "
            "/u/x </a> <br/> <span><a href='https://www.reddit.com/r/ML/comments/1/'>[link]</a>"
            "</span> &#32; <span><a href='https://www.reddit.com/r/ML/comments/1/'>[comments]</a>"
            "</span>",
            "Genuine question: does churn matter?",
        ),
        (
            # hnrss
            '<p>Article URL: <a href="https://example.org/a">https://example.org/a</a></p>'
            '<p>Comments URL: <a href="https://news.ycombinator.com/item?id=1">x</a></p>'
            "<p>Points: 412</p><p># Comments: 389</p>",
            "",
        ),
        (
            # WordPress
            "<p>OpenAI shipped agents.</p><p>The post <a href='https://t.example/x'>OpenAI "
            "ships</a> appeared first on <a href='https://t.example'>TechCrunch</a>.</p>",
            "OpenAI shipped agents.",
        ),
        (
            # arXiv's RSS
            "arXiv:2508.13426v1 Announce Type: cross \nAbstract: We study agents. They plan.",
            "We study agents. They plan.",
        ),
        (
            "<p>모델이 공개됐다. <a href='https://example.org'>기사 더보기</a></p>",
            "모델이 공개됐다.",
        ),
    ],
)
def test_feed_boilerplate_is_left_out(source: str, summary: str) -> None:
    assert summarize(source) == summary


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.ok = True
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.ok = self.ok and bool(self.stack) and self.stack.pop() == tag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _plain(markup: str) -> str:
    parser = _Balance()
    parser.feed(markup)
    return " ".join("".join(parser.text).split())


def test_random_markup_gives_balanced_html_that_starts_like_the_source() -> None:
    rng = random.Random(20260214)
    words = [
        "에이전트",
        "모델이",
        "공개됐다.",
        "GPT-5",
        "e.g.",
        "3.5%",
        "출시!",
        "why?",
        "中文。",
        "&",
        "<x>",
    ]
    tags = ["b", "i", "em", "strong", "a", "code", "p", "li", "span", "div", "br"]
    for _ in range(300):
        parts: list[str] = []
        for _ in range(rng.randint(1, 30)):
            roll = rng.random()
            tag = rng.choice(tags)
            if roll < 0.2:
                parts.append(f"<{tag} href='https://e.org/{rng.randint(1, 9)}'>")
            elif roll < 0.35:
                parts.append(f"</{tag}>")
            else:
                parts.append(html.escape(rng.choice(words)) + rng.choice([" ", "", "  "]))
        source = "".join(parts)
        out = summarize(source, sentences=rng.randint(0, 3), max_chars=rng.choice([0, 15, 40]))
        checker = _Balance()
        checker.feed(out)
        assert checker.ok and not checker.stack, (source, out)
        # What is kept is the beginning of the source's text.
        kept = _plain(out).removesuffix("…")
        assert (
            _plain(source.replace("<br>", " ")).replace(" ", "").startswith(kept.replace(" ", ""))
        ), (source, out)


# -- as a filter in a build ----------------------------------------------------------------------

LONG = (
    "<p>Anthropic이 <b>Claude Cowork</b>를 Windows에 출시했다. 데스크톱 시장의 70%에 닿는다. "
    "파일 접근과 플러그인을 지원한다.</p>"
)
ITEMS = [
    {"title": "Claude Cowork, Windows 출시", "url": "https://example.org/cowork", "summary": LONG},
    {"title": "빈 요약", "url": "https://example.org/empty"},
]
SECTION = '[[sections]]\nid = "news"\ntitle = "📰 뉴스"\n'


def test_the_build_summarizes_with_extractive_when_nothing_is_configured(tmp_path: Path) -> None:
    result = run_build(tmp_path, items_toml("news", ITEMS) + SECTION)
    cowork, empty = result.edition.items
    assert cowork.summary == (
        "Anthropic이 <b>Claude Cowork</b>를 Windows에 출시했다. 데스크톱 시장의 70%에 닿는다."
    )
    assert cowork.extra["summary_by"] == "extractive"
    assert (empty.summary, "summary_by" in empty.extra) == ("", False)
    assert not result.warnings


def test_configured_extractive_options_are_used_once(tmp_path: Path) -> None:
    toml = items_toml("news", ITEMS) + '[[filters]]\nplugin = "extractive"\nsentences = 1\n'
    result = run_build(tmp_path, toml + SECTION)
    assert result.edition.items[0].summary == (
        "Anthropic이 <b>Claude Cowork</b>를 Windows에 출시했다."
    )


class Shouting(Filter):
    """A third-party summarizer: the build's default then stays out of the way."""

    name = "shouting"
    summarizer = True

    def apply(self, items, ctx):  # type: ignore[no-untyped-def]
        return None

    async def edit(self, edition, ctx):  # type: ignore[no-untyped-def]
        for item in edition.items:
            item.summary = item.title.upper()
        ctx.warn("shouting: done")


class BrokenEditor(Filter):
    name = "broken-editor"

    def apply(self, items, ctx):  # type: ignore[no-untyped-def]
        return None

    def edit(self, edition, ctx):  # type: ignore[no-untyped-def]
        raise KeyError("summary")


def _module(*classes: type) -> types.ModuleType:
    module = types.ModuleType("summarizers_test_plugin")

    @hookimpl
    def register_filters(register):  # type: ignore[no-untyped-def]
        for cls in classes:
            register(cls)

    module.register_filters = register_filters  # type: ignore[attr-defined]
    return module


def test_another_summarizer_replaces_the_default(tmp_path: Path) -> None:
    toml = items_toml("news", ITEMS[:1]) + '[[filters]]\nplugin = "shouting"\n' + SECTION
    result = run_build(tmp_path, toml, extra=[_module(Shouting)])
    assert result.edition.items[0].summary == "CLAUDE COWORK, WINDOWS 출시"
    assert [w.message for w in result.warnings] == ["shouting: done"]


def test_a_failing_edit_step_stops_the_build_naming_the_filter(tmp_path: Path) -> None:
    toml = items_toml("news", ITEMS[:1]) + '[[filters]]\nplugin = "broken-editor"\n' + SECTION
    with pytest.raises(
        BuildError, match=r"filter \[\[filters\]\] #1 \(plugin 'broken-editor'\) failed: KeyError"
    ):
        run_build(tmp_path, toml, extra=[_module(BrokenEditor)])


def test_extractive_leaves_items_another_summarizer_wrote(tmp_path: Path) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from newsroom import Edition, FilterContext, Item, Newsletter, Section

    item = Item(
        url="https://e.org/1", title="t", summary="Model text. More.", extra={"summary_by": "llm"}
    )
    other = Item(url="https://e.org/2", title="u", summary="One. Two. Three.")
    edition = Edition(
        id="x",
        date=dt.date(2026, 2, 14),
        title="t",
        newsletter=Newsletter(title="t"),
        generated_at=dt.datetime(2026, 2, 14, tzinfo=dt.UTC),
        sections=[Section(id="s", title="s", items=[item, other])],
    )
    ctx = FilterContext(
        newsletter_title="t", language="ko", timezone=ZoneInfo("UTC"), now=edition.generated_at
    )
    Extractive(Extractive.Options(sentences=1)).edit(edition, ctx)
    assert [i.summary for i in edition.items] == ["Model text. More.", "One."]


def test_the_summarizer_in_docs_summaries_works(tmp_path: Path) -> None:
    import re

    text = (Path(__file__).resolve().parent.parent / "docs" / "summaries.md").read_text("utf-8")
    section = text.split("## Writing a summarizer", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code
    module = types.ModuleType("docs_summarizer")
    exec(compile(code.group(1), "docs/summaries.md", "exec"), module.__dict__)
    toml = items_toml("news", ITEMS[:1]) + '[[filters]]\nplugin = "first-line"\n' + SECTION
    result = run_build(tmp_path, toml, extra=[module])
    (item,) = result.edition.items
    assert item.extra["summary_by"] == "first-line"
    assert item.summary == LONG  # its one paragraph, closed again by the sanitizer


def test_a_huge_body_is_read_only_as_far_as_a_summary_needs() -> None:
    body = "<p>첫 문장이다. 두 번째 문장이다.</p>" + "<p>" + "긴 본문 " * 500_000 + "</p>"
    assert summarize(body, max_chars=100) == "첫 문장이다. 두 번째 문장이다."
