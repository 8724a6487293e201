"""What the ``llm`` filter writes for readers, in the newsletter's language: titles for items
titled in another language (the source's kept as ``original_title``), declared per-item
fields, the section each item goes in, which items are one story; answers in another
language refused. The model is
an OpenAI-compatible server on 127.0.0.1 (``newsroom.dev.modelserver``) reached through
``llm``, answering as each test tells it."""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from canned import items_toml, run_build
from conftest import require

from newsroom.core.language import in_language
from newsroom.dev.modelserver import ChatRequest, ModelServer, register_models

ENGLISH = {
    "title": "Welcome GLM-5: a 744B open agentic model on the Hub",
    "url": "https://huggingface.co/blog/glm5",
    "summary": "<p>Zhipu AI's GLM-5 is out under the MIT licence. It has 744B parameters.</p>",
}
KOREAN = {
    "title": "대만, 올해 성장률 전망 7.7%로 상향",
    "url": "https://news.example.org/taiwan",
    "summary": "<p>대만 통계 당국이 성장률 전망치를 올렸다. AI 반도체 수출 덕분이다.</p>",
}
SECTIONS = (
    '[[sections]]\nid = "models"\ntitle = "🤖 모델 & 도구"\nmatch = { source = "feed" }\n'
    '[[sections]]\nid = "news"\ntitle = "📰 뉴스"\nmatch = { source = "feed" }\n'
)
_LINK = re.compile(r"^Link: (\S+)$", re.M)

Answer = Callable[[ChatRequest], str]


class Replies:
    """The model's answers, by kind of prompt and item link; records what was asked."""

    def __init__(self) -> None:
        self.by_kind: dict[str, dict[str, str]] = {}
        self.asked: list[tuple[str, str]] = []

    def kind(self, prompt: str) -> str:
        for start, kind in (
            ("Summarize", "summary"),
            ("Write the title", "title"),
            ("Which section", "section"),
            ("Which of these items report the same story", "stories"),
            ("Write the introduction", "intro"),
            ("Write the editor's insight", "insight"),
        ):
            if prompt.startswith(start):
                return kind
        return prompt.split("]", 1)[0].lstrip("[")  # a field's prompt: "[name] ..."

    def __call__(self, request: ChatRequest) -> str:
        prompt = request.prompt
        kind = self.kind(prompt)
        link = _LINK.search(prompt)
        url = link.group(1) if link else ""
        self.asked.append((kind, url))
        answers = self.by_kind.get(kind, {})
        return answers.get(url, answers.get("*", "이 답은 준비되지 않았다."))


@pytest.fixture
def replies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Replies]:
    require(
        importlib.util.find_spec("llm") is not None,
        "the llm package",
        "pip install 'newsroom-digest[llm]'",
    )
    home = tmp_path / "llm-home"
    monkeypatch.setenv("LLM_USER_PATH", str(home))
    answers = Replies()
    with ModelServer(answers) as server:
        register_models(home, server.url, ["local"])
        yield answers


def newsletter(llm_options: str = "", items: list[dict[str, str]] | None = None) -> str:
    return (
        items_toml("feed", items if items is not None else [ENGLISH, KOREAN])
        + '[[filters]]\nplugin = "llm"\nmodel = "local"\nintro = false\ninsight = false\n'
        + llm_options
        + SECTIONS
    )


def llm_warnings(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [w.message for w in result.warnings if w.message.startswith("llm:")]


# -- the language check ------------------------------------------------------------------------


def test_english_in_a_korean_newsletter_is_caught_and_korean_naming_products_is_not() -> None:
    english = "Unified models that both understand and generate images usually need 10B+."
    assert in_language(english, "ko") is False
    assert in_language("Claude Cowork for Windows", "ko") is False
    for korean in (
        "오픈AI가 응답(Responses) API에 서버 측 컨텍스트 압축, 호스팅 셸, 스킬 표준을 추가했다.",
        "DeepGen 1.0: 경량 5B 통합 멀티모달 모델",
        "RAG-Anything: 올인원 멀티모달 RAG 프레임워크",
        "Wispr Flow — AI 받아쓰기 앱",
    ):
        assert in_language(korean, "ko") is True, korean
    assert in_language("7.7% (2026)", "ko") is None  # no words: not judged
    # Latin-script languages cannot be told apart by script; another script is caught.
    assert in_language(english, "en") is True
    assert in_language("대만, 올해 성장률 전망 상향", "en-GB") is False


# -- titles --------------------------------------------------------------------------------------


def test_a_title_in_another_language_is_rewritten_and_the_sources_kept(
    tmp_path: Path, replies: Replies
) -> None:
    replies.by_kind = {
        "summary": {"*": "지푸AI가 744B 규모의 GLM-5를 MIT 라이선스로 공개했다."},
        "title": {ENGLISH["url"]: "「GLM-5: 744B 오픈 에이전트 모델, 허브에 공개」"},
    }
    result = run_build(tmp_path, newsletter())
    glm, taiwan = result.edition.items
    assert glm.title == "GLM-5: 744B 오픈 에이전트 모델, 허브에 공개"  # quotes taken off
    assert glm.original_title == ENGLISH["title"]
    # A Korean title is the reader's already: not asked about, nothing kept.
    assert taiwan.title == KOREAN["title"] and taiwan.original_title is None
    assert [kind for kind, url in replies.asked if kind == "title"] == ["title"]
    saved = json.loads(result.path.read_text("utf-8"))
    assert saved["sections"][0]["items"][0]["original_title"] == ENGLISH["title"]


def test_answers_in_another_language_are_refused_and_asked_again_next_time(
    tmp_path: Path, replies: Replies
) -> None:
    replies.by_kind = {
        "summary": {
            ENGLISH["url"]: "GLM-5 is a 744B open model released under the MIT licence.",
            KOREAN["url"]: "대만이 AI 반도체 수출에 힘입어 성장률 전망을 7.7%로 올렸다.",
        },
        "title": {"*": "GLM-5, a new open model"},
    }
    result = run_build(tmp_path, newsletter())
    glm, taiwan = result.edition.items
    # The English summary was refused: the extractive one stands in, as for junk.
    assert glm.extra["summary_by"] == "extractive"
    assert glm.summary == "Zhipu AI's GLM-5 is out under the MIT licence. It has 744B parameters."
    assert taiwan.extra["summary_by"] == "llm:local"
    assert glm.title == ENGLISH["title"] and glm.original_title is None
    assert llm_warnings(result) == [
        "llm: model 'local': 1 title(s) kept as the source wrote them: an answer not in "
        "Korean (한국어) (1)",
        "llm: model 'local': 1 summary are extractive instead: an answer not in Korean "
        "(한국어) (1)",
    ]
    asked = len(replies.asked)
    run_build(tmp_path, newsletter())
    # Refused answers were not kept: the rebuild asks for those two again, and only those.
    assert sorted(replies.asked[asked:]) == [("summary", ENGLISH["url"]), ("title", ENGLISH["url"])]


# -- declared fields ----------------------------------------------------------------------------

FIELDS = (
    '[[filters.fields]]\nname = "요약"\nprompt = "[요약] {title}\\nLink: {url}\\n{text}"\n'
    '[[filters.fields]]\nname = "시사점"\nprompt = "[시사점] {title} ({name})\\nLink: {url}"\n'
)


def test_declared_fields_are_written_per_item_in_config_order_and_cleaned(
    tmp_path: Path, replies: Replies
) -> None:
    replies.by_kind = {
        "summary": {"*": "한 줄 요약이다."},
        "title": {"*": "한국어 제목"},
        "시사점": {
            "*": '오픈 모델 경쟁이 **빨라진다**. <img src=x onerror="alert(1)">'
            '<a href="javascript:steal()">더 보기</a>'
        },
        "요약": {"*": "무엇을 공개했는지 정리한 요약이다."},
    }
    result = run_build(tmp_path, newsletter(FIELDS))
    for item in result.edition.items:
        assert list(item.fields) == ["요약", "시사점"]
        assert item.fields["요약"] == "무엇을 공개했는지 정리한 요약이다."
        assert item.fields["시사점"].startswith("오픈 모델 경쟁이 <strong>빨라진다</strong>.")
        assert "onerror" not in item.fields["시사점"] and "javascript" not in item.fields["시사점"]
    # The field prompt was given the item's own text, not the summary written meanwhile.
    summaries = [kind for kind, _ in replies.asked if kind == "요약"]
    assert len(summaries) == 2


def test_a_field_name_with_markup_and_an_unknown_placeholder_are_refused(tmp_path: Path) -> None:
    from canned import configure

    from newsroom import ConfigError

    require(
        importlib.util.find_spec("llm") is not None,
        "the llm package",
        "pip install 'newsroom-digest[llm]'",
    )
    bad_name = '[[filters.fields]]\nname = "<b>요약</b>"\nprompt = "{title}"\n'
    with pytest.raises(ConfigError, match="a field's name is plain text"):
        configure(tmp_path, newsletter(bad_name))
    bad_prompt = '[[filters.fields]]\nname = "요약"\nprompt = "{titel}"\n'
    with pytest.raises(ConfigError, match=r"unknown placeholder \{titel\}"):
        configure(tmp_path, newsletter(bad_prompt))


# -- sections ------------------------------------------------------------------------------------


def test_the_model_assigns_sections_once_per_item_within_the_configured_ids(
    tmp_path: Path, replies: Replies
) -> None:
    third = {
        "title": "어떤 소식",
        "url": "https://news.example.org/other",
        "summary": "<p>본문.</p>",
    }
    replies.by_kind = {
        "summary": {"*": "요약이다."},
        "title": {"*": "한국어 제목"},
        "section": {
            ENGLISH["url"]: "`models`",
            KOREAN["url"]: "news.",
            third["url"]: "sports",  # not a configured section
        },
    }
    options = "assign_sections = true\n"
    result = run_build(tmp_path, newsletter(options, [ENGLISH, KOREAN, third]))
    assert {i.url: i.section for i in result.edition.items} == {
        ENGLISH["url"]: "models",
        KOREAN["url"]: "news",
        third["url"]: None,
    }
    assert replies.asked.count(("section", ENGLISH["url"])) == 1
    assert llm_warnings(result) == [
        "llm: model 'local': 1 item(s) placed by the sections' rules instead: 'sports' is "
        "not a section id (1)"
    ]
    asked = len(replies.asked)
    run_build(tmp_path, newsletter(options, [ENGLISH, KOREAN, third]))
    # The usable answers came from the cache; only the unusable one was asked again.
    assert replies.asked[asked:] == [("section", third["url"])]


def test_the_section_prompt_lists_the_configured_sections(tmp_path: Path, replies: Replies) -> None:
    prompts: list[str] = []
    answer = replies.__call__

    def recording(request: ChatRequest) -> str:
        prompts.append(request.prompt)
        return answer(request)

    replies.by_kind = {"section": {"*": "news"}, "summary": {"*": "요약."}, "title": {"*": "제목"}}
    with ModelServer(recording) as server:
        register_models(tmp_path / "llm-home", server.url, ["local"])
        run_build(tmp_path, newsletter("assign_sections = true\n", [KOREAN]))
    (section,) = [p for p in prompts if p.startswith("Which section")]
    assert "models: 🤖 모델 & 도구\nnews: 📰 뉴스\n" in section
    assert "Title: 대만, 올해 성장률 전망 7.7%로 상향" in section


def test_a_rebuild_with_every_kind_of_answer_makes_no_model_call(
    tmp_path: Path, replies: Replies
) -> None:
    replies.by_kind = {
        "summary": {"*": "요약이다."},
        "title": {"*": "한국어 제목"},
        "section": {"*": "news"},
        "요약": {"*": "요약 필드."},
        "시사점": {"*": "시사점 필드."},
        "intro": {"*": "오늘의 소식입니다."},
    }
    toml = newsletter("assign_sections = true\n" + FIELDS).replace("intro = false\n", "")
    first = run_build(tmp_path, toml)
    asked = len(replies.asked)
    assert {kind for kind, _ in replies.asked} == {
        "summary",
        "title",
        "section",
        "요약",
        "시사점",
        "intro",
    }
    second = run_build(tmp_path, toml)
    assert len(replies.asked) == asked
    assert second.edition.model_dump(
        exclude={"generated_at", "sources"}
    ) == first.edition.model_dump(exclude={"generated_at", "sources"})


# -- stories -------------------------------------------------------------------------------------

TAIWAN_EN = {
    "title": "Taiwan raises 2026 growth forecast to 7.7% on AI demand",
    "url": "https://www.reuters.example/taiwan-growth?utm_source=rss",
    "summary": "<p>Taiwan's statistics agency raised its forecast on AI server exports.</p>",
}
DEDUPE = '[[filters]]\nplugin = "dedupe"\n'


def test_items_the_model_calls_one_story_are_merged_across_languages(
    tmp_path: Path, replies: Replies
) -> None:
    prompts: list[str] = []
    replies.by_kind = {
        "summary": {"*": "요약이다."},
        "title": {"*": "대만, 성장률 전망 상향"},
        "stories": {"*": 'The same story: {"stories": [[2, 3]]}'},
    }
    answer = replies.__call__

    def recording(request: ChatRequest) -> str:
        prompts.append(request.prompt)
        return answer(request)

    toml = newsletter("stories = true\n", [ENGLISH, KOREAN, TAIWAN_EN]) + DEDUPE
    with ModelServer(recording) as server:
        register_models(tmp_path / "llm-home", server.url, ["local"])
        result = run_build(tmp_path, toml)
    # The English and the Korean report of one story: one item, both reports kept.
    assert len(result.edition.items) == 2
    (story,) = [i for i in result.edition.items if len(i.sources) > 1]
    assert {s.url for s in story.sources} == {
        KOREAN["url"],
        "https://www.reuters.example/taiwan-growth",
    }
    (asked,) = [p for p in prompts if p.startswith("Which of these items")]
    assert "[3] Taiwan raises 2026 growth forecast to 7.7% on AI demand (feed) <" in asked
    assert llm_warnings(result) == []
    # Asked once: a rebuild takes the answer from the cache.
    before = replies.asked.count(("stories", ""))
    rebuilt = run_build(tmp_path, toml)
    assert replies.asked.count(("stories", "")) == before
    assert len(rebuilt.edition.items) == 2


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ('{"stories": [[1, 9]]}', "'9' is not an item number from 1 to 3"),
        ("Items 2 and 3.", 'not {"stories": [[numbers], ...]}'),
        ('{"stories": [["two", 2]]}', "'two' is not an item number from 1 to 3"),
    ],
)
def test_an_unusable_stories_answer_merges_nothing_and_says_so(
    tmp_path: Path, replies: Replies, answer: str, reason: str
) -> None:
    replies.by_kind = {
        "summary": {"*": "요약이다."},
        "title": {"*": "제목"},
        "stories": {"*": answer},
    }
    result = run_build(
        tmp_path, newsletter("stories = true\n", [ENGLISH, KOREAN, TAIWAN_EN]) + DEDUPE
    )
    assert len(result.edition.items) == 3
    assert not any("story" in i.extra for i in result.edition.items)
    assert llm_warnings(result) == [
        f"llm: model 'local': no answer on which items are one story ({reason}); stories are "
        "matched by their links and titles only"
    ]


def test_quotes_around_a_title_go_and_quotes_inside_it_stay(
    tmp_path: Path, replies: Replies
) -> None:
    second = {**TAIWAN_EN, "url": "https://www.reuters.example/memory"}
    replies.by_kind = {
        "summary": {"*": "요약이다."},
        "title": {
            ENGLISH["url"]: "“GLM-5 공개”",
            second["url"]: "'관찰 메모리'로 에이전트 비용 10배 절감",
        },
    }
    result = run_build(tmp_path, newsletter("", [ENGLISH, second]))
    assert {i.url: i.title for i in result.edition.items} == {
        ENGLISH["url"]: "GLM-5 공개",
        second["url"]: "'관찰 메모리'로 에이전트 비용 10배 절감",
    }


def test_a_stories_answer_is_read_strictly() -> None:
    from newsroom_llm import MAX_STORY_REPORTS, story_groups

    assert story_groups('```json\n{"stories": [[2, 3], [3, 4], [5]]}\n```', 5) == [[2, 3]]
    # A group as large as the edition (an answer a hostile title asked for) merges nothing.
    everything = list(range(1, MAX_STORY_REPORTS + 2))
    assert story_groups(f'{{"stories": [{everything}]}}', 40) == []
