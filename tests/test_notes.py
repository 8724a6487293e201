"""The editor's notes: parsing (with line numbers for every problem) and what a build does
with them: drops before the sections, pins, additions, order, intro and insight after."""

from __future__ import annotations

import re
from pathlib import Path

from canned import EDITION, items_toml, run_build

from newsroom.curate.notes import EditorNotes, markdown_html

ROOT = Path(__file__).resolve().parent.parent


def paper(n: int, hours: float = 1.0) -> dict[str, object]:
    return {
        "title": f"논문 {n}",
        "url": f"https://arxiv.org/abs/2602.{n:05d}",
        "summary": f"<p>논문 {n}의 요약이다. 두 번째 문장.</p>",
        "hours_ago": hours,
    }


def story(n: int) -> dict[str, object]:
    return {"title": f"이야기 {n}", "url": f"https://news.example.org/{n}", "hours_ago": n}


PAPERS = [paper(n, hours=n) for n in range(1, 6)]  # 논문 1 is the newest
STORIES = [story(n) for n in range(1, 4)]
TOML = (
    items_toml("papers", PAPERS)
    + items_toml("stories", STORIES)
    + '[[sections]]\nid = "papers"\ntitle = "📄 논문"\nmatch = { source = "papers" }\nlimit = 3\n'
    + '[[sections]]\nid = "stories"\ntitle = "🗣️ 이야기"\nmatch = { source = "stories" }\n'
    + '[[sections]]\nid = "news"\ntitle = "📰 뉴스"\nmatch = { source = "nothing" }\n'
)
TOML = TOML.replace('match = { source = "nothing" }', 'match = { kind = "none-of-these" }')


def build_with(tmp_path: Path, notes: str):  # type: ignore[no-untyped-def]
    (tmp_path / "notes").mkdir(exist_ok=True)
    (tmp_path / "notes" / f"{EDITION}.md").write_text(notes, "utf-8")
    return run_build(tmp_path, TOML)


def titles(result, section: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.title for s in result.edition.sections if s.id == section for i in s.items]


def messages(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [w.message for w in result.warnings if w.source == "notes"]


def test_without_notes_nothing_changes(tmp_path: Path) -> None:
    result = run_build(tmp_path, TOML)
    assert titles(result, "papers") == ["논문 1", "논문 2", "논문 3"]
    assert [s.id for s in result.edition.sections] == ["papers", "stories"]
    assert result.edition.intro == result.edition.insight == ""


def test_drop_lets_the_next_item_in(tmp_path: Path) -> None:
    result = build_with(tmp_path, "## 제외\n- https://arxiv.org/abs/2602.00002 — 중복 보도\n")
    assert titles(result, "papers") == ["논문 1", "논문 3", "논문 4"]
    assert not messages(result)


def test_pin_moves_an_item_first_even_past_the_limit(tmp_path: Path) -> None:
    notes = "## 고정\n- https://arxiv.org/abs/2602.00005\n- <https://arxiv.org/abs/2602.00002>\n"
    result = build_with(tmp_path, notes)
    # 논문 5 had no room (limit 3); pinned, it opens its section, which grows by one.
    assert titles(result, "papers") == ["논문 5", "논문 2", "논문 1", "논문 3"]
    assert result.edition.sections[0].items[0].extra["pinned"] is True


def test_pin_into_a_named_section(tmp_path: Path) -> None:
    result = build_with(tmp_path, "## pin\n- https://news.example.org/3 (papers)\n")
    assert titles(result, "papers")[0] == "이야기 3"
    assert titles(result, "stories") == ["이야기 1", "이야기 2"]


def test_add_a_link_with_the_editors_summary(tmp_path: Path) -> None:
    notes = (
        "## 추가\n"
        "- [OpenAI, Responses API 업데이트](https://platform.openai.com/docs/changelog) (news)\n"
        "  에이전트 **스킬**과 호스팅 셸이 추가되었습니다. 요약은 편집자가 씁니다.\n"
        "  두 번째 줄도 요약입니다.\n"
    )
    result = build_with(tmp_path, notes)
    # The "news" section matched nothing and was left out; the addition brings it back.
    assert [s.id for s in result.edition.sections] == ["papers", "stories", "news"]
    (added,) = result.edition.sections[2].items
    assert added.title == "OpenAI, Responses API 업데이트"
    assert added.url == "https://platform.openai.com/docs/changelog"
    assert added.publisher == "platform.openai.com"
    # The editor's summary is kept whole: no summarizer shortens it.
    assert added.summary == (
        "<p>에이전트 <strong>스킬</strong>과 호스팅 셸이 추가되었습니다. 요약은 편집자가 씁니다. "
        "두 번째 줄도 요약입니다.</p>"
    )
    assert added.extra["summary_by"] == "editor"


def test_section_order(tmp_path: Path) -> None:
    result = build_with(tmp_path, "## 섹션 순서\n1. stories\n2. papers\n")
    assert [s.id for s in result.edition.sections] == ["stories", "papers"]


def test_intro_and_insight_in_markdown(tmp_path: Path) -> None:
    notes = (
        "# 2월 14일 편집 노트\n\n이 줄은 편집자 메모라 읽지 않습니다.\n\n"
        "## 인트로\n발렌타인데이 아침의 **AI 브리핑**입니다.\n\n"
        "## 인사이트\n### 오늘의 핵심 트렌드\n1. **에이전트 전쟁** — [논문 1](https://arxiv.org/abs/2602.00001)\n"
        "<!-- 내부 메모: 내일 보완 -->\n"
        "<script>alert(1)</script>\n"
    )
    result = build_with(tmp_path, notes)
    edition = result.edition
    assert edition.intro == "<p>발렌타인데이 아침의 <strong>AI 브리핑</strong>입니다.</p>"
    assert "<p><strong>오늘의 핵심 트렌드</strong></p>" in edition.insight
    assert '<a href="https://arxiv.org/abs/2602.00001"' in edition.insight
    assert "내부 메모" not in edition.insight and "편집자 메모" not in edition.intro
    # Editors' HTML is sanitized like everything else.
    assert "<script" not in edition.insight and "alert" not in edition.insight
    assert not messages(result)


def test_problems_are_warnings_with_file_and_line_and_the_rest_applies(tmp_path: Path) -> None:
    notes = (
        "## 인트로\n오늘의 브리핑.\n"  # lines 1-2
        "## 요약\n이 부분은 모르는 제목입니다.\n"  # 3-4
        "## 고정\n- https://example.org/not-fetched\n- 링크가 없는 줄\n"  # 5-7
        "## 제외\n- https://example.org/also-not-here\n"  # 8-9
        "## 추가\n- https://example.org/no-title (news)\n"  # 10-11
        "- [제목만](https://example.org/t)\n"  # 12
        "- [없는 섹션](https://example.org/s) (nowhere)\n"  # 13
        "## 순서\n- stories\n- comunity\n"  # 14-16
    )
    result = build_with(tmp_path, notes)
    label = f"notes/{EDITION}.md"
    assert messages(result) == [
        f"{label}:3: unknown heading '## 요약' (known: intro/인트로, insight/인사이트, "
        "pin/고정, drop/제외, add/추가, order/순서); ignored",
        f"{label}:7: pin: no http(s) link in '링크가 없는 줄'",
        f"{label}:11: add: https://example.org/no-title needs a title: write - [title](URL) "
        "(section)",
        f"{label}:12: add: https://example.org/t needs a section: write - [title](URL) (section)",
        f"{label}:9: drop https://example.org/also-not-here: no item of this edition has that "
        "link; nothing dropped",
        f"{label}:6: pin https://example.org/not-fetched: no item of this edition has that link "
        "(no source returned it, or a filter left it out); to add a link of your own, list it "
        "under '## 추가' (add)",
        f"{label}:13: add https://example.org/s: there is no section 'nowhere' (sections: "
        "papers, stories, news)",
        f"{label}:16: order: this edition has no section 'comunity' (it has: papers, stories)",
    ]
    # What was right still applied.
    assert result.edition.intro == "<p>오늘의 브리핑.</p>"
    assert [s.id for s in result.edition.sections] == ["stories", "papers"]


def test_a_notes_file_that_is_not_utf8_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / f"{EDITION}.md").write_bytes("## 인트로\n안녕".encode("euc-kr"))
    result = run_build(tmp_path, TOML)
    assert messages(result) == [
        f"notes/{EDITION}.md: cannot be read: it is not UTF-8 text; the notes are not applied"
    ]
    assert titles(result, "papers") == ["논문 1", "논문 2", "논문 3"]


def test_a_heading_inside_a_code_block_is_text() -> None:
    notes = EditorNotes.from_text("## 인사이트\n```\n## 제목이 아닙니다\n```\n끝.\n")
    assert not notes.warnings
    assert "## 제목이 아닙니다" in notes.insight and "<pre><code>" in notes.insight


def test_headings_in_english_and_korean_are_the_same_parts() -> None:
    english = EditorNotes.from_text("## Intro\nHi\n## Pinned\n- https://a.example/1\n")
    korean = EditorNotes.from_text("## 인트로:\nHi\n## 고정\n- https://a.example/1\n")
    assert (english.intro, [p.url for p in english.pins]) == (
        korean.intro,
        [p.url for p in korean.pins],
    )
    assert not english.warnings and not korean.warnings


def test_markdown_headings_become_bold_paragraphs() -> None:
    assert markdown_html("### 전망\n다음 주는") == "<p><strong>전망</strong></p>\n<p>다음 주는</p>"


def test_the_example_in_docs_editorial_is_valid() -> None:
    text = (ROOT / "docs" / "editorial.md").read_text("utf-8")
    example = re.search(r"```markdown\n(<!-- notes/2026-02-14\.md -->.*?)```", text, re.S)
    assert example, "docs/editorial.md shows a whole notes file"
    notes = EditorNotes.from_text(example.group(1))
    assert not notes.warnings, notes.warnings
    assert notes.intro and notes.insight and notes.pins and notes.drops and notes.adds
    assert notes.order


def test_the_example_newsletters_notes_apply_to_its_edition(tmp_path: Path) -> None:
    """examples/ai-briefing/notes/2026-02-14.md against the demo's build: every part applies,
    and every link of the editor's insight is an item of the edition."""
    import asyncio
    import datetime as dt
    import shutil

    from lxml import html

    from newsroom.config.newsletter import open_newsletter
    from newsroom.curate.pipeline import build
    from newsroom.testing import LocalServer

    example = ROOT / "examples" / "ai-briefing"
    shutil.copy(example / "newsroom.toml", tmp_path / "newsroom.toml")
    shutil.copytree(example / "notes", tmp_path / "notes")
    newsletter = open_newsletter(tmp_path / "newsroom.toml")
    now = dt.datetime.fromisoformat("2026-02-14T06:00:00+09:00")
    with LocalServer(example / "sample-data") as server:
        result = asyncio.run(
            build(newsletter.config, newsletter.plugins, now=now, mirror=server.url)
        )
    edition = result.edition
    assert not messages(result)
    assert "발렌타인데이 아침의 AI 브리핑" in edition.intro
    assert edition.sections[0].items[0].url == "https://arxiv.org/abs/2602.12205"  # pinned
    urls = {i.url for i in edition.items}
    assert not any("amazon-stock" in u for u in urls)  # dropped
    # A story several sources reported is one item: its other reports' links count too.
    shown = urls | {
        u for i in edition.items for u in (*i.links.values(), *(s.url for s in i.sources))
    }
    links = {a.get("href") for a in html.fragment_fromstring(edition.insight, "div").iter("a")}
    assert links and links <= shown, links - shown
