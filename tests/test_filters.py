"""The first-party filters (window, dedupe, keywords, history) with real items and state."""

from __future__ import annotations

import datetime as dt
import random
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from newsroom_filters import Dedupe, History, Keywords, Window
from newsroom_filters.similarity import bigrams, jaccard, normalize_title, similar_pairs
from pydantic import ValidationError

from newsroom import Edition, FilterContext, Item, Newsletter, Section
from newsroom.store.state import State

NOW = dt.datetime(2026, 2, 14, 16, 30, tzinfo=dt.UTC)  # 01:30 on 15 Feb in Seoul
SEOUL = ZoneInfo("Asia/Seoul")


def context(
    *,
    now: dt.datetime = NOW,
    timezone: str = "UTC",
    state: State | None = None,
    edition_id: str = "2026-02-14",
    last_published: dt.datetime | None = None,
    warnings: list[str] | None = None,
) -> FilterContext:
    return FilterContext(
        newsletter_title="Test Weekly",
        language="ko",
        timezone=ZoneInfo(timezone),
        now=now,
        state=state,
        edition_id=edition_id,
        last_published=last_published,
        warn=(warnings.append if warnings is not None else lambda message: None),
    )


def item(
    title: str,
    url: str | None = None,
    *,
    source: str = "news",
    published: dt.datetime | None = None,
    summary: str = "",
    tags: list[str] | None = None,
    metrics: dict[str, float] | None = None,
    **fields: object,
) -> Item:
    slug = abs(hash(title)) % 10**8
    return Item(
        url=url or f"https://example.com/{source}/{slug}",
        title=title,
        source=source,
        published=published,
        summary=summary,
        tags=tags or [],
        metrics=metrics or {},
        **fields,
    )


def apply(
    flt: Window | Dedupe | Keywords | History, items: list[Item], ctx: FilterContext | None = None
) -> list[Item]:
    """The filter's output as the pipeline sees it (``None`` means unchanged)."""
    result = flt.apply(items, ctx or context())
    return items if result is None else result


def titles(items: list[Item]) -> list[str]:
    return [i.title for i in items]


def test_all_four_filters_are_registered(plugin_manager) -> None:
    names = set(plugin_manager.filters.names())
    assert {"window", "dedupe", "keywords", "history"} <= names


# -- window --------------------------------------------------------------------------------


def hours_ago(hours: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=hours)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def test_window_keeps_the_last_24_hours_by_default() -> None:
    items = [
        item("fresh", published=hours_ago(1)),
        item("yesterday evening", published=hours_ago(23.5)),
        item("two days old", published=hours_ago(48)),
    ]
    assert titles(apply(Window(), items)) == ["fresh", "yesterday evening"]


def test_window_hours_option() -> None:
    items = [item("fresh", published=hours_ago(1)), item("older", published=hours_ago(3))]
    flt = Window(Window.Options(hours=2))
    assert titles(apply(flt, items)) == ["fresh"]
    # Fractions work too: 90 minutes.
    assert titles(apply(Window(Window.Options(hours=1.5)), items)) == ["fresh"]


@pytest.mark.parametrize("hours", [0, -1])
def test_window_hours_must_be_positive(hours: float) -> None:
    with pytest.raises(ValidationError):
        Window.Options(hours=hours)


def test_window_since_last_edition() -> None:
    last = NOW - dt.timedelta(days=3)
    items = [
        item("after the last edition", published=last + dt.timedelta(minutes=5)),
        item("two days old", published=hours_ago(48)),
        item("before the last edition", published=last - dt.timedelta(minutes=5)),
    ]
    flt = Window(Window.Options(since="last-edition"))
    kept = apply(flt, items, context(last_published=last))
    assert titles(kept) == ["after the last edition", "two days old"]


def test_window_since_last_edition_falls_back_to_hours_before_the_first_edition() -> None:
    items = [item("fresh", published=hours_ago(20)), item("old", published=hours_ago(30))]
    assert titles(apply(Window(Window.Options(since="last-edition")), items)) == ["fresh"]
    wider = Window(Window.Options(since="last-edition", hours=36))
    assert titles(apply(wider, items)) == ["fresh", "old"]


def test_window_today_is_the_newsletters_day_not_utcs() -> None:
    # NOW is 16:30 UTC on the 14th, which is already 01:30 on the 15th in Seoul.
    items = [
        item("00:30 in Seoul", published=utc(2026, 2, 14, 15, 30)),
        item("23:00 the day before in Seoul", published=utc(2026, 2, 14, 14, 0)),
        item("morning in UTC", published=utc(2026, 2, 14, 1, 0)),
        item("yesterday in UTC", published=utc(2026, 2, 13, 23, 0)),
    ]
    today = Window(Window.Options(since="today"))
    assert titles(apply(today, items, context(timezone="Asia/Seoul"))) == ["00:30 in Seoul"]
    assert titles(apply(today, items, context(timezone="UTC"))) == [
        "00:30 in Seoul",
        "23:00 the day before in Seoul",
        "morning in UTC",
    ]


def test_window_today_reads_dates_in_any_time_zone() -> None:
    # A feed that writes Seoul local time compares correctly with a UTC build clock.
    seoul_morning = dt.datetime(2026, 2, 15, 0, 10, tzinfo=SEOUL)
    kept = apply(
        Window(Window.Options(since="today")),
        [item("early", published=seoul_morning)],
        context(timezone="Asia/Seoul"),
    )
    assert titles(kept) == ["early"]


def test_window_today_with_hours_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="hours"):
        Window.Options(since="today", hours=6)


def test_window_undated_items_are_kept_by_default_and_can_be_dropped() -> None:
    items = [item("dated", published=hours_ago(1)), item("undated")]
    assert titles(apply(Window(), items)) == ["dated", "undated"]
    assert titles(apply(Window(Window.Options(undated="drop")), items)) == ["dated"]


def test_window_future_dates_are_treated_as_now() -> None:
    far = item("year 2099", published=dt.datetime(2099, 1, 1, tzinfo=dt.UTC))
    soon = item("scheduled in 30 min", published=NOW + dt.timedelta(minutes=30))
    kept = apply(
        Window(Window.Options(since="last-edition")),
        [far, soon],
        context(last_published=NOW - dt.timedelta(hours=1)),
    )
    assert titles(kept) == ["year 2099", "scheduled in 30 min"]
    # The broken date no longer puts the item at the top of "newest first" for decades...
    assert kept[0].published == NOW
    # ...a date within the hour's tolerance is left alone, and the input is not modified.
    assert kept[1].published == NOW + dt.timedelta(minutes=30)
    assert far.published == dt.datetime(2099, 1, 1, tzinfo=dt.UTC)


# -- dedupe --------------------------------------------------------------------------------


def test_dedupe_same_page_with_tracking_parameters() -> None:
    items = [
        item("Story", "https://example.com/a?id=1&utm_source=rss&utm_medium=feed"),
        item("Story (shared)", "https://example.com/a?fbclid=IwAR0abc&id=1", source="social"),
        item("Other page", "https://example.com/a?id=2"),
    ]
    kept = apply(Dedupe(), items)
    assert titles(kept) == ["Story", "Other page"]
    assert kept[0].extra["duplicates"] == [
        {"source": "social", "url": "https://example.com/a?fbclid=IwAR0abc&id=1"}
    ]


def test_dedupe_http_https_and_www_are_one_page() -> None:
    items = [
        item("A", "http://www.example.com/story/"),
        item("B", "https://example.com/story"),
        item("C", "HTTPS://Example.com:443/story#comments", source="other"),
    ]
    assert titles(apply(Dedupe(), items)) == ["A"]


def test_dedupe_same_link_counts_even_within_one_source() -> None:
    items = [
        item("Post", "https://blog.example/p/1"),
        item("Post (updated)", "https://blog.example/p/1/"),
    ]
    assert titles(apply(Dedupe(), items)) == ["Post"]


def test_dedupe_near_identical_english_titles_across_sources() -> None:
    items = [
        item("OpenAI releases a new open-weight reasoning model", source="hn"),
        item("OpenAI Releases New Open-Weight Reasoning Model 🚀", source="techcrunch"),
        item("Rust 1.80 released", source="hn"),
    ]
    kept = apply(Dedupe(), items)
    assert titles(kept) == [
        "OpenAI releases a new open-weight reasoning model",
        "Rust 1.80 released",
    ]
    assert kept[0].source == "hn"
    assert [d["source"] for d in kept[0].extra["duplicates"]] == ["techcrunch"]


def test_dedupe_near_identical_korean_titles() -> None:
    items = [
        item("삼성, HBM4 샘플 출하 개시", source="연합뉴스"),
        item("삼성 HBM4 샘플 출하 개시!", source="전자신문"),
        item("삼성전자, HBM4 샘플 고객사에 출하 개시", source="zdnet"),
        item("삼성전자 HBM4 샘플 고객사 출하 개시", source="etnews"),
        item("SK하이닉스, HBM4 양산 돌입", source="etnews"),
    ]
    kept = apply(Dedupe(), items)
    assert titles(kept) == [
        "삼성, HBM4 샘플 출하 개시",
        "삼성전자, HBM4 샘플 고객사에 출하 개시",
        "SK하이닉스, HBM4 양산 돌입",
    ]


def test_dedupe_keeps_similar_titles_from_one_source() -> None:
    # One feed listing two near-identical titles means two things (two papers, two repos).
    items = [
        item("Scaling laws for sparse mixture-of-experts models", source="arxiv"),
        item("Scaling laws for sparse mixture of experts models", source="arxiv"),
    ]
    assert len(apply(Dedupe(), items)) == 2


def test_dedupe_does_not_merge_different_versions() -> None:
    # By similarity alone, short titles differing in one digit stay apart at 0.8 (0.69)...
    assert (
        jaccard(
            bigrams(normalize_title("GPT-5 released")), bigrams(normalize_title("GPT-4 released"))
        )
        < 0.8
    )
    # ...but long ones do not (0.9): a threshold high enough to separate those would stop
    # catching real rewordings. Differing numbers are therefore a rule of their own.
    long5 = "OpenAI says GPT-5 is now available to all ChatGPT users"
    long4 = "OpenAI says GPT-4 is now available to all ChatGPT users"
    assert jaccard(bigrams(normalize_title(long5)), bigrams(normalize_title(long4))) > 0.85

    items = [
        item("GPT-5 released", source="a"),
        item("GPT-4 released", source="b"),
        item(long5, source="a"),
        item(long4, source="b"),
        item("iPhone 16 review", source="a"),
        item("iPhone 15 review", source="b"),
    ]
    assert len(apply(Dedupe(), items)) == 6
    # Without the rule only the similarity threshold separates them: the long pair merges.
    loose = Dedupe(Dedupe.Options(distinct_numbers=False))
    assert long4 not in titles(apply(loose, items))
    assert len(apply(loose, items)) == 5


def test_dedupe_one_report_adding_a_number_is_still_the_same_story() -> None:
    items = [
        item("Samsung begins shipping HBM4 samples", source="a"),
        item("Samsung begins shipping HBM4 samples in 2026", source="b"),
    ]
    assert len(apply(Dedupe(), items)) == 1


def test_dedupe_formulaic_headlines_about_different_companies_stay_apart() -> None:
    # Jaccard 0.795: the default 0.8 keeps them apart, 0.75 would merge them. This is the
    # trade-off of a lower threshold.
    items = [
        item("OpenAI releases a new open-weight reasoning model", source="a"),
        item("Google releases a new open-weight reasoning model", source="b"),
    ]
    assert len(apply(Dedupe(), items)) == 2
    assert len(apply(Dedupe(Dedupe.Options(title_similarity=0.75)), items)) == 1


def test_dedupe_title_similarity_zero_compares_links_only_and_one_needs_equal_titles() -> None:
    items = [
        item("Samsung ships HBM4 samples", source="a"),
        item("SAMSUNG SHIPS HBM4 SAMPLES!!", source="b"),
        item("Samsung ships the HBM4 samples", source="c"),
    ]
    assert len(apply(Dedupe(Dedupe.Options(title_similarity=0)), items)) == 3
    assert titles(apply(Dedupe(Dedupe.Options(title_similarity=1)), items)) == [
        "Samsung ships HBM4 samples",
        "Samsung ships the HBM4 samples",
    ]
    assert len(apply(Dedupe(), items)) == 1
    # Spacing is ignored too (Korean spacing varies between outlets).
    spaced = [item("삼성전자 HBM4 출하", source="a"), item("삼성전자HBM4 출하", source="b")]
    assert len(apply(Dedupe(Dedupe.Options(title_similarity=1)), spaced)) == 1


def test_dedupe_compares_with_the_first_report_not_along_a_chain() -> None:
    # B is like A (0.88) and C is like B (0.84), but C is not like A (0.74): B joins A's
    # story and C, compared with A only, stays. Transitive merging would let a chain of
    # small rewordings swallow different stories.
    a = item("Samsung begins mass production of HBM4 memory chips", source="a")
    b = item("Samsung begins mass production of HBM4 memory", source="b")
    c = item("Samsung begins mass production of HBM4", source="c")
    assert titles(apply(Dedupe(), [a, b, c])) == [a.title, c.title]


def test_dedupe_titles_of_only_emoji_or_punctuation_are_never_similar() -> None:
    items = [item("🔥🔥🔥", source="a"), item("🔥🔥🔥", source="b"), item("!!!", source="c")]
    assert len(apply(Dedupe(), items)) == 3


def test_dedupe_merges_tags_and_metrics_into_the_first_item() -> None:
    first = item(
        "Llama 4 weights are out",
        source="hn",
        tags=["ai", "models"],
        metrics={"points": 120, "comments": 40},
    )
    other = item(
        "Llama 4 weights are out!",
        source="reddit",
        tags=["AI", "open-source"],
        metrics={"points": 300, "upvote_ratio": 0.97},
    )
    same_link = item(
        "Meta releases Llama 4",
        first.url + "?utm_campaign=x",
        source="news",
        metrics={"comments": 10},
    )
    kept = apply(Dedupe(), [first, other, same_link])
    assert len(kept) == 1
    merged = kept[0]
    assert merged.title == first.title and merged.source == "hn" and merged.url == first.url
    assert merged.tags == ["ai", "models", "open-source"]
    assert merged.metrics == {"points": 300, "comments": 40, "upvote_ratio": 0.97}
    assert merged.extra["duplicates"] == [
        {"source": "reddit", "url": other.url},
        {"source": "news", "url": same_link.url},
    ]
    # The input items are left as they were.
    assert first.tags == ["ai", "models"] and "duplicates" not in first.extra


def test_dedupe_keeps_input_order_and_the_first_item_of_each_story() -> None:
    items = [
        item("Story one", source="a"),
        item("Story two", source="a"),
        item("Story two!", source="b", metrics={"points": 999}),
        item("Story one.", source="c"),
        item("Story three", source="c"),
    ]
    kept = apply(Dedupe(), items)
    assert [(i.title, i.source) for i in kept] == [
        ("Story one", "a"),
        ("Story two", "a"),
        ("Story three", "c"),
    ]


@pytest.mark.parametrize("value", [0.1, 0.49, 1.5, -0.1])
def test_dedupe_title_similarity_is_off_or_between_half_and_one(value: float) -> None:
    with pytest.raises(ValidationError):
        Dedupe.Options(title_similarity=value)


def test_dedupe_leaves_the_list_unchanged_when_nothing_repeats() -> None:
    items = [item("One"), item("Two", source="b")]
    assert Dedupe().apply(items, context()) is None


def test_title_similarity_join_is_exact() -> None:
    # The prefix-filtering join must find exactly the pairs an all-pairs comparison finds.
    rng = random.Random(3)
    words = ["AI", "모델", "공개", "open", "model", "release", "삼성", "칩", "GPU", "new", "x"]
    titles_ = []
    for _ in range(300):
        title = " ".join(rng.choices(words, k=rng.randint(1, 6)))
        titles_.append(title)
        if rng.random() < 0.3:  # a near variant
            titles_.append(title + rng.choice(["!", " x", "s", ""]))
    token_sets = [bigrams(normalize_title(t)) for t in titles_]
    for threshold in (0.3, 0.5, 0.7, 0.8, 0.9, 1.0):
        expected = {
            a: [
                b
                for b in range(len(token_sets))
                if b != a and jaccard(token_sets[a], token_sets[b]) >= threshold - 1e-9
            ]
            for a in range(len(token_sets))
        }
        found = similar_pairs(token_sets, threshold)
        assert {a: found.get(a, []) for a in expected} == expected, threshold


def test_dedupe_10000_items_is_fast() -> None:
    # A guard against an accidental all-pairs comparison (which takes about a minute here).
    rng = random.Random(1)
    words = "model chip release open agent 모델 공개 반도체 출하 투자 보안 클라우드".split()
    items = [
        item(
            " ".join(rng.choices(words, k=6)) + f" {rng.randint(0, 10**6)}",
            f"https://example.com/{n}",
            source=f"s{n % 7}",
        )
        for n in range(10_000)
    ]
    start = time.perf_counter()
    apply(Dedupe(), items)
    assert time.perf_counter() - start < 5


# -- keywords ------------------------------------------------------------------------------


def test_keywords_include_in_english_and_korean() -> None:
    items = [
        item("New LLM benchmark"),
        item("삼성전자 반도체 실적 발표"),
        item("Weather today", summary="<p>Sunny with a chance of <b>llm</b>s</p>"),
        item("Gardening tips", tags=["Semiconductors"]),
        item("Unrelated"),
    ]
    flt = Keywords(Keywords.Options(include=["llm", "반도체", "semiconductor"]))
    assert titles(apply(flt, items)) == [
        "New LLM benchmark",
        "삼성전자 반도체 실적 발표",
        "Weather today",
        "Gardening tips",
    ]


def test_keywords_exclude_wins() -> None:
    items = [
        item("AI 신제품 출시"),
        item("AI 신제품 광고", summary="협찬"),
        item("Sponsored: AI tools", tags=["sponsored"]),
        item("AI safety paper"),
    ]
    flt = Keywords(Keywords.Options(include=["AI"], exclude=["광고", "Sponsored"]))
    assert titles(apply(flt, items)) == ["AI 신제품 출시", "AI safety paper"]


def test_keywords_exclude_only() -> None:
    items = [item("Crypto exchange hacked"), item("Rust 2.0 plans"), item("비트코인 급등")]
    flt = Keywords(Keywords.Options(exclude=["crypto", "비트코인"]))
    assert titles(apply(flt, items)) == ["Rust 2.0 plans"]


def test_keywords_match_the_text_not_the_markup() -> None:
    items = [
        item("Link roundup", summary='<a href="https://example.com/crypto">a list</a>'),
        item("Split word", summary="<p>L<b>L</b>M inference</p>"),
    ]
    assert titles(apply(Keywords(Keywords.Options(exclude=["crypto"])), items)) == titles(items)
    assert titles(apply(Keywords(Keywords.Options(include=["LLM"])), items)) == ["Split word"]


def test_keywords_case_sensitive() -> None:
    items = [item("Apple unveils a new chip"), item("An apple a day")]
    flt = Keywords(Keywords.Options(include=["Apple"], case_sensitive=True))
    assert titles(apply(flt, items)) == ["Apple unveils a new chip"]
    assert len(apply(Keywords(Keywords.Options(include=["Apple"])), items)) == 2


def test_keywords_whole_words_apply_to_spaced_scripts_only() -> None:
    items = [
        item("OpenAI ships a model"),
        item("New AI model"),
        item("AI가 바꾼 일상"),  # particle glued to the word: still the word "AI"
        item("Gmail outage"),
    ]
    flt = Keywords(Keywords.Options(include=["ai"], whole_words=True))
    assert titles(apply(flt, items)) == ["New AI model", "AI가 바꾼 일상"]
    # Korean keywords match inside words whatever the option says.
    korean = Keywords(Keywords.Options(include=["삼성"], whole_words=True))
    assert titles(apply(korean, [item("삼성전자는 오늘"), item("LG전자")])) == ["삼성전자는 오늘"]


def test_keywords_fields() -> None:
    items = [item("Quarterly results", summary="반도체 매출 증가"), item("반도체 특집")]
    flt = Keywords(Keywords.Options(include=["반도체"], fields=["title"]))
    assert titles(apply(flt, items)) == ["반도체 특집"]


def test_keywords_full_width_letters_match() -> None:
    items = [item("ＡＩ 스타트업 투자 유치"), item("클라우드 요금 인상")]
    flt = Keywords(Keywords.Options(include=["ai"]))
    assert titles(apply(flt, items)) == ["ＡＩ 스타트업 투자 유치"]


def test_keywords_without_words_change_nothing() -> None:
    items = [item("anything")]
    assert Keywords().apply(items, context()) is None


@pytest.mark.parametrize(
    "options",
    [{"include": [""]}, {"exclude": ["  "]}, {"fields": []}, {"fields": ["body"]}],
)
def test_keywords_invalid_options(options: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Keywords.Options(**options)


def test_keywords_accept_a_single_string() -> None:
    assert Keywords.Options(include="반도체").include == ["반도체"]


# -- history -------------------------------------------------------------------------------


def edition(edition_id: str, *items: Item) -> Edition:
    return Edition(
        id=edition_id,
        date=dt.date.fromisoformat(edition_id[:10]),
        title=f"Test Weekly {edition_id}",
        newsletter=Newsletter(title="Test Weekly", language="ko", timezone="Asia/Seoul"),
        generated_at=NOW,
        sections=[Section(id="news", title="News", items=list(items))],
    )


@pytest.fixture
def state(tmp_path: Path, engine: str, request: pytest.FixtureRequest):
    """The history in an SQLite file, then in a PostgreSQL database."""
    location: Path | str = tmp_path / "state.db"
    if engine == "postgresql":
        location = request.getfixturevalue("postgres_db").url
    with State(location, migrate=True) as st:
        yield st


def test_history_drops_items_of_published_editions(state: State) -> None:
    sent = item("Sent last week", "https://example.com/sent")
    sent_by_id = item("Sent, link changed since", "https://example.com/old", id="fixed-id")
    drafted = item("Only in a draft", "https://example.com/draft")
    state.record_edition(edition("2026-02-07", sent, sent_by_id))
    state.mark_published("2026-02-07")
    state.record_edition(edition("2026-02-10-draft", drafted))  # built, never published

    items = [
        item("Sent last week (again)", "http://www.example.com/sent?utm_source=rss"),
        item("Same item, new link", "https://example.com/new-location", id="fixed-id"),
        item("Only in a draft", "https://example.com/draft"),
        item("New today", "https://example.com/new"),
    ]
    kept = apply(History(), items, context(state=state))
    assert titles(kept) == ["Only in a draft", "New today"]


def test_history_drops_a_story_one_of_whose_reports_was_sent(state: State) -> None:
    from newsroom import ItemSource

    sent = item("DeepGen on Daily Papers", "https://huggingface.co/papers/2602.12205")
    state.record_edition(edition("2026-02-07", sent))
    state.mark_published("2026-02-07")
    # Today the paper leads a story that the daily-papers entry is one report of.
    story = item(
        "DeepGen 1.0",
        "https://arxiv.org/abs/2602.12205",
        sources=[
            ItemSource(source="papers", url="https://arxiv.org/abs/2602.12205"),
            ItemSource(source="hf", url="https://huggingface.co/papers/2602.12205?utm_source=x"),
        ],
    )
    kept = apply(History(), [story, item("New today")], context(state=state))
    assert titles(kept) == ["New today"]


def test_history_rebuilding_an_edition_keeps_its_own_items(state: State) -> None:
    today = item("Today's story", "https://example.com/today")
    state.record_edition(edition("2026-02-14", today))
    state.mark_published("2026-02-14")

    rebuilt = apply(History(), [today], context(state=state, edition_id="2026-02-14"))
    assert titles(rebuilt) == ["Today's story"]
    tomorrow = apply(History(), [today], context(state=state, edition_id="2026-02-15"))
    assert tomorrow == []


def test_history_survives_reopening_the_state_file(tmp_path: Path) -> None:
    sent = item("Sent", "https://example.com/sent")
    with State(tmp_path / "state.db") as st:
        st.record_edition(edition("2026-02-07", sent))
        st.mark_published("2026-02-07")
    with State(tmp_path / "state.db") as st:
        assert apply(History(), [sent], context(state=st)) == []


def test_history_without_state_warns_once_and_keeps_everything() -> None:
    warnings: list[str] = []
    flt = History()
    items = [item("a"), item("b")]
    ctx = context(warnings=warnings)
    assert apply(flt, items, ctx) == items
    assert apply(flt, items, ctx) == items
    assert len(warnings) == 1 and "state" in warnings[0]


# -- together ------------------------------------------------------------------------------


def test_filters_chain_like_a_build(state: State) -> None:
    sent = item("Already sent", "https://example.com/sent", published=hours_ago(2))
    state.record_edition(edition("2026-02-13", sent))
    state.mark_published("2026-02-13", when=NOW - dt.timedelta(days=1))
    ctx = context(state=state, last_published=NOW - dt.timedelta(days=1), timezone="Asia/Seoul")
    items = [
        sent,
        item("삼성, HBM4 샘플 출하 개시", source="a", published=hours_ago(1)),
        item("삼성 HBM4 샘플 출하 개시!", source="b", published=hours_ago(1)),
        item("비트코인 광고", source="b", published=hours_ago(1)),
        item("Old news", source="a", published=hours_ago(40)),
    ]
    chain = [
        Window(Window.Options(since="last-edition")),
        History(),
        Dedupe(),
        Keywords(Keywords.Options(exclude=["광고"])),
    ]
    for flt in chain:
        items = apply(flt, items, ctx)
    assert titles(items) == ["삼성, HBM4 샘플 출하 개시"]


def test_dedupe_two_feeds_of_one_source_are_independent_origins() -> None:
    """A `news` source reading two Korean sites: the same story from both is one item, while
    one feed listing two near-identical titles keeps both."""
    a = item(
        "삼성전자, HBM4 샘플 출하 개시…AI 메모리 경쟁",
        "https://a.example/1",
        extra={"feed": "https://a.example/rss"},
    )
    b = item(
        "삼성전자, HBM4 샘플 출하 개시...AI 메모리 경쟁",
        "https://b.example/9",
        extra={"feed": "https://b.example/rss"},
    )
    c = item(
        "삼성전자, HBM4 샘플 출하 개시…AI 메모리 경쟁!",
        "https://a.example/2",
        extra={"feed": "https://a.example/rss"},
    )
    kept = apply(Dedupe(), [a, b, c])
    assert [i.url for i in kept] == ["https://a.example/1", "https://a.example/2"]
    assert kept[0].extra["duplicates"] == [{"source": "news", "url": "https://b.example/9"}]
