"""The subject line (the editor's ``subject:``, else one naming the lead story) and
``newsroom review``: what it finds in a built edition, ``--json``, its exit code, and
``[email] require_review`` holding ``send``."""

from __future__ import annotations

import json
from pathlib import Path

from canned import items_toml, run_build
from conftest import newsroom_cli, point_at

from newsroom.core.subjects import shouting
from newsroom.curate.notes import EditorNotes

PAPERS = '[[sections]]\nid = "papers"\ntitle = "📄 논문"\nmatch = { source = "papers" }\n'
SECTIONS = (
    PAPERS
    + '[[sections]]\nid = "github"\ntitle = "💻 GitHub"\nmatch = { source = "github" }\n'
    + '[[sections]]\nid = "news"\ntitle = "📰 뉴스"\nmatch = { source = "news" }\n'
)


def test_the_default_subject_names_the_lead_story_without_shouting(tmp_path: Path) -> None:
    papers = [
        {"title": "GLM-5 공개", "url": "https://example.org/glm", "summary": "<p>공개.</p>"},
        {"title": "DeepGen 1.0: 경량 통합 모델", "url": "https://example.org/d", "hours_ago": 2},
    ]
    result = run_build(tmp_path, items_toml("papers", papers) + PAPERS)
    # "AI 브리핑 · GLM-5 공개 외 1건" would be all capitals in its Latin letters.
    assert result.edition.subject == "AI 브리핑 · DeepGen 1.0 외 1건"
    assert shouting("AI 브리핑 2026년 2월 14일") and shouting("AI 브리핑 · GLM-5 공개 외 1건")
    assert not shouting(result.edition.subject)


def test_the_editors_subject_line_in_the_notes_wins(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "2026-02-14.md").write_text(
        "# 편집 노트\nsubject: 발렌타인데이의 에이전트 전쟁\n\n## 인트로\n안녕하세요.\n", "utf-8"
    )
    papers = [{"title": "DeepGen 1.0", "url": "https://example.org/d", "summary": "<p>본문.</p>"}]
    result = run_build(tmp_path, items_toml("papers", papers) + PAPERS)
    assert result.edition.subject == "발렌타인데이의 에이전트 전쟁"
    notes = EditorNotes.from_text("제목: " + "가" * 200 + "\n")
    assert notes.subject == ""
    assert "too long for a subject line" in notes.warnings[0].message


def test_review_reports_what_the_editor_would_fix(tmp_path: Path) -> None:
    from canned import configure

    from newsroom.render.review import review_edition

    papers = [
        {
            "title": "DeepGen 1.0: A Lightweight Unified Model",
            "url": "https://arxiv.org/abs/2602.12205",
            "summary": "<p>We present DeepGen 1.0, a 5B model.</p>",
        }
    ]
    github = [
        {
            "title": "DeepGenTeam/DeepGen",
            "url": "https://github.com/DeepGenTeam/DeepGen",
            "summary": "<p>DeepGen 1.0 (arXiv:2602.12205) 학습 코드와 가중치를 공개했다.</p>",
        }
    ]
    news = [
        {"title": "대만 성장률 전망 상향", "url": "https://news.example.org/t?utm_source=rss&id=3"}
    ]
    toml = items_toml("papers", papers) + items_toml("github", github) + items_toml("news", news)
    result = run_build(tmp_path, toml + SECTIONS)
    config, _ = configure(tmp_path, toml + SECTIONS)
    review = review_edition(config, result.edition, result.path.parent)
    found = {(f.check, f.level, f.item) for f in review.findings}
    assert ("repeated", "error", "DeepGenTeam/DeepGen") in found  # the same arXiv id
    assert ("language", "warning", "DeepGen 1.0: A Lightweight Unified Model") in found
    assert ("summary", "warning", "대만 성장률 전망 상향") in found
    # Item links lose their tracking parameters when sanitized, before any check sees them.
    (story,) = [i for i in result.edition.items if i.title == "대만 성장률 전망 상향"]
    assert story.url == "https://news.example.org/t?id=3"
    assert "tracking" not in {f.check for f in review.findings}
    assert [f.check for f in review.errors] == ["repeated"]
    assert review.rendered is False  # not rendered: size and images not checked
    # A link the theme or the notes put in the email itself is still reported.
    rendered = tmp_path / "rendered"
    rendered.mkdir()
    (rendered / "email.html").write_text(
        '<a href="https://example.org/about?utm_source=mail&amp;x=1">소개</a>', "utf-8"
    )
    tracking = [
        f
        for f in review_edition(config, result.edition, rendered).findings
        if f.check == "tracking"
    ]
    assert [f.message for f in tracking] == [
        "a link in the email carries tracking parameters (utm_source): "
        "https://example.org/about?utm_source=mail&x=1"
    ]


def test_newsroom_review_and_require_review_holding_send(newsletter: Path) -> None:
    # The example's edition reads clean: each story once, every section filled.
    clean = newsroom_cli(newsletter, "review", "2026-02-14", "--json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert json.loads(clean.stdout)["errors"] == 0
    # The same repository in a second section (as an edition built without dedupe has it).
    path = newsletter.parent / "build" / "editions" / "2026-02-14" / "edition.json"
    data = json.loads(path.read_text("utf-8"))
    github = next(s for s in data["sections"] if s["id"] == "github")
    twice = dict(github["items"][0], id="again")
    next(s for s in data["sections"] if s["id"] == "community")["items"].append(twice)
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")

    done = newsroom_cli(newsletter, "review", "2026-02-14", "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 12, done.stderr
    assert report["rendered"] is True and report["errors"] >= 1
    assert "repeated" in {f["check"] for f in report["findings"] if f["level"] == "error"}
    text = newsroom_cli(newsletter, "review")
    assert text.returncode == 12 and "error: repeated:" in text.stdout

    point_at(newsletter, 9, require_review=True)  # a port nothing listens on: never reached
    held = newsroom_cli(newsletter, "send", "2026-02-14")
    assert held.returncode == 12, held.stderr
    assert "Held 2026-02-14: its review has" in held.stderr
    log = newsroom_cli(newsletter, "deliveries", "--json")
    assert json.loads(log.stdout) == []
