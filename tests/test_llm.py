"""The llm filter with real ``llm`` models: deterministic ones registered as an llm plugin
(tests/llm_test_models.py), one that raises, one that hangs, one that talks junk and one
that answers with hostile markup."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from canned import EDITION, configure, items_toml, run_build
from conftest import AS_OF, EXAMPLE, require
from lxml import html as lxml_html

from newsroom import ConfigError
from newsroom.dev.modelserver import ModelServer, register_models
from newsroom.store.state import State
from newsroom.testing import LocalServer

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The test models, registered with llm for this test only."""
    require(
        importlib.util.find_spec("llm") is not None,
        "the llm package",
        "pip install 'newsroom-digest[llm]'",
    )
    import llm
    import llm_test_models

    monkeypatch.setenv("LLM_USER_PATH", str(tmp_path / "llm-home"))
    llm_test_models.PROMPTS.clear()
    llm_test_models.RELEASE.clear()
    llm.plugins.pm.register(llm_test_models, name="newsroom-test-models")
    try:
        yield llm_test_models
    finally:
        llm_test_models.RELEASE.set()
        llm.plugins.pm.unregister(name="newsroom-test-models")


PAPERS = [
    {
        "title": "DeepGen 1.0: 경량 통합 멀티모달 모델",
        "url": "https://arxiv.org/abs/2602.12205",
        "summary": "<p>5B 파라미터로 80B 모델을 앞선다. 코드와 가중치를 공개했다.</p>",
        "hours_ago": 2,
    },
    {
        "title": "dVoting: 확산 언어 모델의 빠른 투표",
        "url": "https://arxiv.org/abs/2602.12153",
        "summary": "<p>병렬 생성 특성을 활용한다. 정확도가 오른다.</p>",
        "hours_ago": 3,
    },
]
NEWS = [
    {
        "title": "삼성 HBM4 샘플 출하",
        "url": "https://news.example.org/hbm4",
        "summary": "<p>삼성이 HBM4 샘플 출하를 시작했다. 경쟁이 가속화된다. 세 번째 문장.</p>",
        "hours_ago": 1,
    },
]
SECTIONS = (
    '[[sections]]\nid = "papers"\ntitle = "📄 논문 동향"\nmatch = { source = "papers" }\n'
    '[[sections]]\nid = "news"\ntitle = "📰 뉴스"\nmatch = { source = "news" }\n'
)


def newsletter(llm_table: str = "", papers: list[dict[str, object]] = PAPERS) -> str:
    return (
        items_toml("papers", papers)
        + items_toml("news", NEWS)
        + '[[filters]]\nplugin = "llm"\nmodel = "newsroom-test"\n'
        + llm_table
        + SECTIONS
    )


def llm_warnings(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [w.message for w in result.warnings if w.message.startswith("llm:")]


def test_summaries_intro_and_insight(tmp_path: Path, models: ModuleType) -> None:
    result = run_build(tmp_path, newsletter())
    edition = result.edition
    assert [i.summary for i in edition.items] == [f"모델 요약: {i.title}." for i in edition.items]
    assert {i.extra["summary_by"] for i in edition.items} == {"llm:newsroom-test"}
    assert edition.intro == "<p>오늘은 <strong>3개</strong>의 소식을 전합니다.</p>"

    insight = lxml_html.fragment_fromstring(edition.insight, create_parent="div")
    links = [a.get("href") for a in insight.iter("a")]
    # Only items of the edition are linked, each time an entry names one.
    assert set(links) == {PAPERS[0]["url"], PAPERS[1]["url"]}
    text = insight.text_content()
    assert "오늘의 핵심 트렌드" in text and "에이전트 경쟁" in text and "전망" in text
    assert "없는 항목" not in text  # the trend that named only item 99
    # "now" comes before "watch", whatever order the model gave.
    assert text.index("바로 해 볼 것") < text.index("지켜볼 것")
    assert llm_warnings(result) == [
        "llm: the insight named items that are not in this edition (99); they were left out",
        "llm: left out of the insight, naming no item of this edition: trend 2",
    ]

    prompts = [p for _, p in models.PROMPTS]
    assert len(prompts) == 5  # three summaries, the intro, the insight
    assert all("Korean (한국어)" in p for p in prompts)
    # The insight prompt numbers the items as the edition shows them.
    assert "[1] (📄 논문 동향) DeepGen 1.0" in prompts[-1]
    assert "[3] (📰 뉴스) 삼성 HBM4 샘플 출하" in prompts[-1]


def test_a_rebuild_costs_no_calls_and_a_changed_item_one(
    tmp_path: Path, models: ModuleType
) -> None:
    first = run_build(tmp_path, newsletter())
    calls = len(models.PROMPTS)
    second = run_build(tmp_path, newsletter())
    assert len(models.PROMPTS) == calls  # every answer came from the state file
    assert second.edition.insight == first.edition.insight
    assert [i.summary for i in second.edition.items] == [i.summary for i in first.edition.items]

    changed = [dict(PAPERS[0], title="DeepGen 1.1: 개정판"), PAPERS[1]]
    run_build(tmp_path, newsletter(papers=changed))
    asked = [p for _, p in models.PROMPTS[calls:]]
    # The changed item's summary, and the intro and insight that list it.
    assert len(asked) == 3
    assert "Title: DeepGen 1.1: 개정판" in asked[0]
    assert "[1] (📄 논문 동향) DeepGen 1.1: 개정판: 모델 요약: DeepGen 1.1" in asked[2]


def test_prompts_can_be_overridden(tmp_path: Path, models: ModuleType) -> None:
    table = (
        'summary_prompt = "ECHO {title} in {language}"\n'
        'system = "SYS {newsletter}"\nintro = false\ninsight = false\n'
    )
    result = run_build(tmp_path, newsletter(table))
    assert result.edition.items[0].summary == (
        "ECHO DeepGen 1.0: 경량 통합 멀티모달 모델 in Korean (한국어) | SYS AI 브리핑"
    )
    assert result.edition.intro == result.edition.insight == ""


def test_summaries_off_asks_only_for_the_intro_and_insight(
    tmp_path: Path, models: ModuleType
) -> None:
    result = run_build(tmp_path, newsletter("summaries = false\n"))
    assert {i.extra["summary_by"] for i in result.edition.items} == {"extractive"}
    assert result.edition.intro and result.edition.insight
    assert len(models.PROMPTS) == 2


def test_an_unknown_placeholder_is_refused_with_the_config(tmp_path: Path) -> None:
    require(
        importlib.util.find_spec("llm") is not None,
        "the llm package",
        "pip install 'newsroom-digest[llm]'",
    )
    with pytest.raises(ConfigError) as info:
        configure(tmp_path, newsletter('summary_prompt = "Summarize {txt}"\n'))
    (problem,) = info.value.problems
    assert "(plugin 'llm'): summary_prompt: " in problem
    assert "unknown placeholder {txt}; known: {date}, {language}" in problem


def test_max_calls_caps_the_edition_and_keeps_calls_for_intro_and_insight(
    tmp_path: Path, models: ModuleType
) -> None:
    result = run_build(tmp_path, newsletter("max_calls = 3\nconcurrency = 1\n"))
    first, second, third = result.edition.items
    assert first.extra["summary_by"] == "llm:newsroom-test"
    # The others were cut from their own text instead.
    assert second.extra["summary_by"] == third.extra["summary_by"] == "extractive"
    assert third.summary == "삼성이 HBM4 샘플 출하를 시작했다. 경쟁이 가속화된다."
    assert result.edition.intro and result.edition.insight
    assert len(models.PROMPTS) == 3
    assert (
        "llm: model 'newsroom-test': 2 summaries are extractive instead: "
        "max_calls = 3 reached (2)" in llm_warnings(result)
    )


def test_no_call_is_kept_for_an_intro_and_insight_the_notes_have(
    tmp_path: Path, models: ModuleType
) -> None:
    (tmp_path / "notes").mkdir()
    notes = tmp_path / "notes" / f"{EDITION}.md"
    notes.write_text("## 인트로\n편집자의 인트로.\n\n## 인사이트\n편집자의 인사이트.\n", "utf-8")
    result = run_build(tmp_path, newsletter("max_calls = 3\nconcurrency = 1\n"))
    # All three calls went to the summaries.
    assert {i.extra["summary_by"] for i in result.edition.items} == {"llm:newsroom-test"}
    assert result.edition.intro == "<p>편집자의 인트로.</p>"
    assert len(models.PROMPTS) == 3
    assert not llm_warnings(result)

    # With only the intro in the notes, one call is kept for the insight.
    notes.write_text("## 인트로\n편집자의 인트로.\n", "utf-8")
    (tmp_path / "state.db").unlink()
    result = run_build(tmp_path, newsletter("max_calls = 3\nconcurrency = 1\n"))
    summary_by = [i.extra["summary_by"] for i in result.edition.items]
    assert summary_by == ["llm:newsroom-test", "llm:newsroom-test", "extractive"]
    assert "에이전트 경쟁" in result.edition.insight
    assert len(models.PROMPTS) == 6


def test_a_model_that_raises_falls_back_to_extractive(tmp_path: Path, models: ModuleType) -> None:
    toml = newsletter("concurrency = 1\n").replace('"newsroom-test"', '"newsroom-test-raise"')
    result = run_build(tmp_path, toml)
    assert {i.extra["summary_by"] for i in result.edition.items} == {"extractive"}
    assert (
        result.edition.items[0].summary
        == "5B 파라미터로 80B 모델을 앞선다. 코드와 가중치를 공개했다."
    )
    assert result.edition.intro == result.edition.insight == ""
    # Three failures in a row, then the model is not asked again in this build.
    assert len(models.PROMPTS) == 3
    assert llm_warnings(result) == [
        "llm: no intro: model 'newsroom-test-raise': not asked after 3 failures in a row",
        "llm: no insight: model 'newsroom-test-raise': not asked after 3 failures in a row",
        "llm: model 'newsroom-test-raise': 3 summaries are extractive instead: "
        "RuntimeError: the model is overloaded (3)",
    ]


def test_a_model_that_hangs_is_abandoned_after_the_timeout(
    tmp_path: Path, models: ModuleType
) -> None:
    table = "timeout = 0.2\nstop_after_failures = 1\nconcurrency = 1\n"
    toml = newsletter(table).replace('"newsroom-test"', '"newsroom-test-hang"')
    result = run_build(tmp_path, toml)
    assert {i.extra["summary_by"] for i in result.edition.items} == {"extractive"}
    warning = llm_warnings(result)[-1]
    assert warning.startswith(
        "llm: model 'newsroom-test-hang': 3 summaries are extractive instead:"
    )
    assert "no answer within 0.2 s (1)" in warning
    assert "not asked after 1 failure in a row (2)" in warning
    assert len(models.PROMPTS) == 1  # one hung call, then the model was left alone


def test_junk_answers_are_not_used(tmp_path: Path, models: ModuleType) -> None:
    toml = newsletter().replace('"newsroom-test"', '"newsroom-test-junk"')
    result = run_build(tmp_path, toml)
    assert {i.extra["summary_by"] for i in result.edition.items} == {"extractive"}
    assert result.edition.intro == result.edition.insight == ""
    warnings = llm_warnings(result)
    assert "llm: no insight: the answer is not usable: no JSON object in the answer" in warnings
    assert any(w.startswith("llm: no intro: the answer of 2400 characters") for w in warnings)


def test_a_rejected_answer_is_not_cached_and_asked_again(
    tmp_path: Path, models: ModuleType, engine: str, request: pytest.FixtureRequest
) -> None:
    toml = newsletter().replace('"newsroom-test"', '"newsroom-test-flaky"')
    if engine == "postgresql":  # the answers kept in a database
        database = request.getfixturevalue("postgres_db")
        State(database.url, migrate=True).close()
        toml += f'\n[state]\nurl = "{database.url}"\n'

    first = run_build(tmp_path, toml)  # junk to every prompt, the first time
    assert {i.extra["summary_by"] for i in first.edition.items} == {"extractive"}
    assert first.edition.intro == first.edition.insight == ""
    assert len(models.PROMPTS) == 5

    second = run_build(tmp_path, toml)  # asked again: the model answers well this time
    assert len(models.PROMPTS) == 10
    assert {i.extra["summary_by"] for i in second.edition.items} == {"llm:newsroom-test-flaky"}
    # The intro and insight prompts list the new summaries: new prompts, junk the first time.
    assert second.edition.intro == second.edition.insight == ""

    third = run_build(tmp_path, toml)  # the summaries from the cache; the rest asked again
    assert len(models.PROMPTS) == 12
    assert [i.summary for i in third.edition.items] == [i.summary for i in second.edition.items]
    assert third.edition.intro == "<p>오늘은 <strong>3개</strong>의 소식을 전합니다.</p>"
    assert "에이전트 경쟁" in third.edition.insight

    fourth = run_build(tmp_path, toml)  # every good answer was cached: no call
    assert len(models.PROMPTS) == 12
    assert (fourth.edition.intro, fourth.edition.insight) == (
        third.edition.intro,
        third.edition.insight,
    )
    assert not [w for w in llm_warnings(fourth) if "no intro" in w or "no insight" in w]
    if engine == "postgresql":
        assert not (tmp_path / "state.db").exists()
        with State(database.url) as state:
            # The good answers: three summaries, the intro and the insight.
            assert state.db.execute("SELECT COUNT(*) FROM llm_cache").fetchone()[0] == 5


def test_an_unusable_answer_found_in_the_cache_is_asked_again(
    tmp_path: Path, models: ModuleType
) -> None:
    run_build(tmp_path, newsletter())
    # As an older newsroom left it, which cached answers before checking them.
    with sqlite3.connect(tmp_path / "state.db") as db:
        db.execute("UPDATE llm_cache SET response = ?", ("Sure! " * 400,))
    db.close()
    calls = len(models.PROMPTS)
    result = run_build(tmp_path, newsletter())
    assert len(models.PROMPTS) == calls + 5
    assert {i.extra["summary_by"] for i in result.edition.items} == {"llm:newsroom-test"}
    assert result.edition.intro and result.edition.insight
    run_build(tmp_path, newsletter())
    assert len(models.PROMPTS) == calls + 5


def test_hostile_markup_from_the_model_is_cleaned(tmp_path: Path, models: ModuleType) -> None:
    toml = newsletter().replace('"newsroom-test"', '"newsroom-test-hostile"')
    result = run_build(tmp_path, toml)
    edition = result.edition  # as written to edition.json: sanitized after every plugin
    on_disk = json.loads(result.path.read_text("utf-8"))
    for markup in [i.summary for i in edition.items] + [edition.intro, edition.insight]:
        tree = lxml_html.fragment_fromstring(markup or "<p></p>", create_parent="div")
        assert not list(tree.iter("script", "img"))
        for element in tree.iter():
            assert not [a for a in element.attrib if a.startswith("on")], markup
            assert not element.get("href", "").startswith("javascript:"), markup
    summary = edition.items[0].summary
    assert "<b>굵게</b>" in summary and 'href="https://ok.example/"' in summary
    assert "alert" not in summary
    assert on_disk["sections"][0]["items"][0]["summary"] == summary
    # The insight's only link is the edition's own item; the model's URL is gone.
    insight = lxml_html.fragment_fromstring(edition.insight, create_parent="div")
    assert [a.get("href") for a in insight.iter("a")] == [PAPERS[0]["url"]] * 2
    assert "evil.example" not in edition.insight


def test_an_unknown_model_is_one_clear_warning(tmp_path: Path, models: ModuleType) -> None:
    toml = newsletter().replace('"newsroom-test"', '"no-such-model"')
    result = run_build(tmp_path, toml)
    (warning,) = llm_warnings(result)
    assert warning.startswith("llm: cannot use model 'no-such-model' (UnknownModelError:")
    assert {i.extra["summary_by"] for i in result.edition.items} == {"extractive"}
    assert not models.PROMPTS


def test_the_editors_notes_win_over_the_model(tmp_path: Path, models: ModuleType) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / f"{EDITION}.md").write_text(
        "## 인트로\n편집자의 인트로.\n\n## 인사이트\n편집자의 인사이트.\n", "utf-8"
    )
    result = run_build(tmp_path, newsletter())
    assert result.edition.intro == "<p>편집자의 인트로.</p>"
    assert result.edition.insight == "<p>편집자의 인사이트.</p>"
    assert len(models.PROMPTS) == 3  # the summaries only


# -- through the command line, with the models installed as an llm plugin --------------------------


def test_newsroom_build_with_an_installed_model_plugin(tmp_path: Path) -> None:
    require(
        importlib.util.find_spec("llm") is not None,
        "the llm package",
        "pip install 'newsroom-digest[llm]'",
    )
    site = tmp_path / "site"
    dist = site / "newsroom_test_llm_models-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: newsroom-test-llm-models\nVersion: 0.1\n", "utf-8"
    )
    (dist / "entry_points.txt").write_text("[llm]\nnewsroom-test = llm_test_models\n", "utf-8")
    work = tmp_path / "ai-briefing"
    work.mkdir()
    config = work / "newsroom.toml"
    text = (EXAMPLE / "newsroom.toml").read_text("utf-8")
    # The example's llm table names the demo's stand-in model: one line makes it another.
    marker = 'model = "briefing-demo"'
    assert marker in text
    config.write_text(text.replace(marker, 'model = "newsroom-test"'), "utf-8")
    log = tmp_path / "prompts.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(ROOT / "tests")]),
        "LLM_USER_PATH": str(tmp_path / "llm-home"),
        "NEWSROOM_TEST_LLM_LOG": str(log),
    }

    def build() -> dict[str, object]:
        with LocalServer(EXAMPLE / "sample-data") as server:
            done = subprocess.run(
                [sys.executable, "-m", "newsroom", "-c", str(config), "build", "--json"]
                + ["--mirror", server.url, "--now", AS_OF],
                capture_output=True,
                text=True,
                env=env,
                timeout=300,
            )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    report = build()
    asked = len(log.read_text("utf-8").splitlines())
    prompts = [json.loads(line)[1] for line in log.read_text("utf-8").splitlines()]
    # assign_sections: one question per item the filters kept, before the sections.
    sections_asked = sum(1 for p in prompts if p.startswith("Which section"))
    # stories: one question about all of them.
    stories_asked = sum(1 for p in prompts if p.startswith("Which of these items"))
    assert stories_asked == 1
    edition = json.loads((work / "build" / "editions" / AS_OF[:10] / "edition.json").read_text())
    items = [i for s in edition["sections"] for i in s["items"]]
    with_text = [i for i in items if i["summary"]]
    retitled = [i for i in items if i["original_title"]]
    # A summary per item with text, a title per item whose title was not Korean, the intro
    # and the insight.
    assert sections_asked >= len(items)
    assert asked == len(with_text) + len(retitled) + 2 + sections_asked + stories_asked
    assert retitled and all(
        i["title"] == f"모델 제목: 〈{i['original_title'][:12]}〉 항목의 한국어" for i in retitled
    )
    assert all(i["extra"]["summary_by"] == "llm:newsroom-test" for i in with_text)
    assert edition["intro"] and "<a href=" in edition["insight"]
    email = (work / "build" / "editions" / AS_OF[:10] / "email.html").read_text("utf-8")
    assert "오늘의 핵심 트렌드" in email
    assert any("the insight named items" in w["message"] for w in report["warnings"])  # type: ignore[union-attr]

    build()
    assert len(log.read_text("utf-8").splitlines()) == asked  # the rebuild asked nothing
    shutil.rmtree(tmp_path / "llm-home", ignore_errors=True)


# -- the requests a model's API receives (a local OpenAI-compatible server) --------------------


@pytest.fixture
def model_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModelServer]:
    """A chat completions server on 127.0.0.1 answering as ``newsroom-test`` does, reached
    through llm's OpenAI-compatible models ``local-schema`` (told the JSON Schema) and
    ``local-plain`` (not told it, as many local models are not)."""
    require(
        importlib.util.find_spec("llm") is not None,
        "the llm package",
        "pip install 'newsroom-digest[llm]'",
    )
    import llm_test_models

    home = tmp_path / "llm-home"
    monkeypatch.setenv("LLM_USER_PATH", str(home))
    with ModelServer(lambda request: llm_test_models.careful_answer(request.prompt)) as server:
        register_models(
            home, server.url, {"local-schema": {"supports_schema": True}, "local-plain": {}}
        )
        yield server


def json_in_prompt(prompt: str) -> object:
    """The JSON example an insight prompt shows: from its first line that is ``{`` to the
    next that is ``}``."""
    lines = prompt.splitlines()
    start = lines.index("{")
    end = lines.index("}", start)
    return json.loads("\n".join(lines[start : end + 1]))


@pytest.mark.parametrize("model", ["local-schema", "local-plain"])
def test_the_insight_request_shows_the_model_valid_json(
    tmp_path: Path, model_api: ModelServer, model: str
) -> None:
    import jsonschema
    from newsroom_llm.insight import SCHEMA, parse_answer

    result = run_build(tmp_path, newsletter().replace('"newsroom-test"', f'"{model}"'))
    (insight,) = [r for r in model_api.requests if '"trends"' in r.prompt]
    example = json_in_prompt(insight.prompt)
    jsonschema.validate(example, SCHEMA)  # the shape the parser takes...
    parse_answer(json.dumps(example))  # ...and the parser does take it
    assert "{{" not in insight.prompt and "}}" not in insight.prompt
    # Told the schema only when the model can be held to one; the text is the same.
    assert insight.schema == (SCHEMA if model == "local-schema" else None)
    assert all(r.model == model for r in model_api.requests)
    assert result.edition.insight and "오늘의 핵심 트렌드" in result.edition.insight


def test_a_users_insight_prompt_gets_the_same_valid_json(
    tmp_path: Path, model_api: ModelServer
) -> None:
    table = 'insight_prompt = "Items:\\n{items}\\n\\nFormat:\\n{format}\\n(answer in {language})"\n'
    run_build(tmp_path, newsletter(table).replace('"newsroom-test"', '"local-plain"'))
    (insight,) = [r for r in model_api.requests if '"trends"' in r.prompt]
    assert insight.prompt.startswith("Items:\n[1]")
    assert json_in_prompt(insight.prompt) == json_in_prompt(prompts_module().INSIGHT_FORMAT)


def prompts_module() -> ModuleType:
    from newsroom_llm import prompts

    return prompts
