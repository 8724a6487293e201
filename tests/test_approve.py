"""``newsroom approve`` and ``[email] require_approval`` with the real command and a real SMTP
server; ``newsroom notes``; and the state file's migration that holds approvals."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import EDITION, ENGINES, newsroom_cli, point_at, use_postgres
from test_send import add_subscribers

from newsroom.core import exitcodes
from newsroom.curate.notes import EditorNotes
from newsroom.dev.smtpsink import SmtpSink
from newsroom.store.state import MIGRATIONS, SCHEMA_VERSION, State


@pytest.fixture(params=ENGINES)
def newsletter(request: pytest.FixtureRequest, newsletter: Path) -> Path:
    """The example newsletter, its state in an SQLite file, then in a PostgreSQL database."""
    if request.param == "postgresql":
        use_postgres(newsletter, request.getfixturevalue("postgres_db"))
    return newsletter


def edition_folder(config: Path) -> Path:
    return config.parent / "build" / "editions" / EDITION


def test_send_refuses_an_unapproved_edition_and_sends_it_once_approved(newsletter: Path) -> None:
    addresses = add_subscribers(newsletter, 3)
    with SmtpSink() as sink:
        point_at(newsletter, sink.port, require_approval=True)
        refused = newsroom_cli(newsletter, "send", EDITION)
        assert refused.returncode == exitcodes.NOT_APPROVED == 10, refused.stderr
        assert refused.stderr.strip() == (
            f"Error: edition {EDITION} is not approved, and [email] require_approval is on: "
            f"review it (newsroom preview, or a test copy: newsroom send {EDITION} --to "
            f"ADDRESS), then run `newsroom approve {EDITION}`"
        )
        assert sink.total == 0

        # Test copies and dry runs are how an editor reviews: they need no approval.
        copy = newsroom_cli(newsletter, "send", EDITION, "--to", "editor@example.org")
        assert copy.returncode == 0, copy.stderr
        dry = newsroom_cli(newsletter, "send", EDITION, "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert sink.total == 1

        approved = newsroom_cli(newsletter, "approve", EDITION, "--by", "편집장")
        assert approved.returncode == 0, approved.stderr
        assert approved.stdout.startswith(
            f"Approved {EDITION} by 편집장: 'AI 브리핑 2026년 2월 14일', "
        )
        sent = newsroom_cli(newsletter, "send", EDITION, "--json")
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["counts"]["sent"] == 3
        assert sorted(m.recipients[0] for m in sink.messages[1:]) == sorted(addresses)


def test_an_edition_changed_after_approval_needs_a_new_one(newsletter: Path) -> None:
    add_subscribers(newsletter, 2)
    point_at(newsletter, 2525, require_approval=True)
    assert newsroom_cli(newsletter, "approve", EDITION, "--by", "jay").returncode == 0
    # Rendering again without a change keeps the approval: it is of the content.
    assert newsroom_cli(newsletter, "render", EDITION).returncode == 0
    first = json.loads(newsroom_cli(newsletter, "approve", EDITION, "--json").stdout)
    assert first["replaces"] == first["content_hash"]

    edition = edition_folder(newsletter) / "edition.json"
    data = json.loads(edition.read_text("utf-8"))
    data["intro"] = "<p>편집자가 마지막에 고친 인트로.</p>"
    edition.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    assert newsroom_cli(newsletter, "render", EDITION).returncode == 0
    refused = newsroom_cli(newsletter, "send", EDITION)
    assert refused.returncode == exitcodes.NOT_APPROVED
    assert f"edition {EDITION} changed after it was approved by" in refused.stderr
    assert f"then run `newsroom approve {EDITION}` again" in refused.stderr

    again = newsroom_cli(newsletter, "approve", EDITION)
    assert again.returncode == 0
    assert "This replaces the approval of" in again.stdout


def test_revoke(newsletter: Path) -> None:
    point_at(newsletter, 2525, require_approval=True)
    assert newsroom_cli(newsletter, "approve", EDITION).returncode == 0
    revoked = newsroom_cli(newsletter, "approve", EDITION, "--revoke")
    assert (revoked.returncode, revoked.stdout.strip()) == (
        0,
        f"Withdrew the approval of {EDITION}.",
    )
    assert newsroom_cli(newsletter, "send", EDITION).returncode == exitcodes.NOT_APPROVED
    twice = newsroom_cli(newsletter, "approve", EDITION, "--revoke")
    assert twice.returncode == exitcodes.USAGE
    assert twice.stderr.strip() == f"Edition {EDITION} was not approved."


def test_approving_needs_a_rendered_edition(newsletter: Path) -> None:
    (edition_folder(newsletter) / "email.html").unlink()
    result = newsroom_cli(newsletter, "approve", EDITION)
    assert result.returncode == exitcodes.BUILD
    assert f"run `newsroom render {EDITION}` first" in result.stderr
    missing = newsroom_cli(newsletter, "approve", "2030-01-01")
    assert missing.returncode == exitcodes.BUILD
    assert "no edition '2030-01-01'" in missing.stderr


def test_without_require_approval_send_does_not_ask(newsletter: Path) -> None:
    add_subscribers(newsletter, 1)
    with SmtpSink() as sink:
        point_at(newsletter, sink.port)
        assert newsroom_cli(newsletter, "send", EDITION).returncode == 0
        assert sink.total == 1
    note = newsroom_cli(newsletter, "approve", EDITION)
    assert "require_approval is off" in note.stdout


def test_notes_command_writes_a_file_that_changes_nothing_until_edited(newsletter: Path) -> None:
    result = newsroom_cli(newsletter, "notes", EDITION)
    assert result.returncode == 0, result.stderr
    path = newsletter.parent / "notes" / f"{EDITION}.md"
    text = path.read_text("utf-8")
    assert text.startswith("# AI 브리핑 2026년 2월 14일\n")
    assert "## 인트로" in text and "## 고정" in text and "## 순서" in text
    edition = json.loads((edition_folder(newsletter) / "edition.json").read_text("utf-8"))
    first = edition["sections"][0]["items"][0]
    assert f"    - {first['url']}  {first['title']}" in text
    notes = EditorNotes.for_edition(newsletter.parent, EDITION)
    assert not notes.warnings and notes.empty is False
    assert [s for _, s in notes.order] == [s["id"] for s in edition["sections"]]
    assert not (notes.intro or notes.insight or notes.pins or notes.drops or notes.adds)
    again = newsroom_cli(newsletter, "notes", EDITION)
    assert again.returncode == exitcodes.BUILD and "exists already" in again.stderr


def test_a_version_3_state_file_gains_the_cache_and_approvals(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    db = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:3]:
        migration(db)
    db.execute("PRAGMA user_version = 3")
    db.execute(
        "INSERT INTO subscribers (email, status, uid, created_at, updated_at) "
        "VALUES ('a@example.org', 'active', 'u1', 'x', 'x')"
    )
    db.close()
    with State(path) as state:
        assert state.version == SCHEMA_VERSION >= 4
        tables = {r[0] for r in state.db.execute("SELECT name FROM sqlite_master")}
        assert {"llm_cache", "approvals", "subscribers"} <= tables
        assert state.db.execute("SELECT email FROM subscribers").fetchall() == [("a@example.org",)]


def test_every_exit_code_is_documented(repo_root: Path) -> None:
    text = (repo_root / "docs" / "cli.md").read_text("utf-8")
    codes = {v for k, v in vars(exitcodes).items() if k.isupper() and isinstance(v, int)}
    for code in codes:
        assert f"\n| {code} | " in text, f"exit code {code} is missing from docs/cli.md"


def test_run_waits_for_approval_then_sends_the_approved_edition_unchanged(
    newsletter: Path, tmp_path: Path
) -> None:
    from conftest import AS_OF, EXAMPLE, unbuilt
    from test_send import add_subscribers

    from newsroom.testing import LocalServer

    www = tmp_path / "www"
    unbuilt(newsletter, publish_to=www)
    addresses = add_subscribers(newsletter, 3)
    with SmtpSink() as sink, LocalServer(EXAMPLE / "sample-data") as server:
        point_at(newsletter, sink.port, require_approval=True)
        first = newsroom_cli(newsletter, "run", "--now", AS_OF, "--mirror", server.url)
        assert first.returncode == 10, first.stderr
        assert f"Built {EDITION}; waiting for approval" in first.stderr
        assert sink.total == 0 and not www.exists()  # nothing went out, not even the web page
        html = newsletter.parent / "build" / "editions" / EDITION / "email.html"
        assert newsroom_cli(newsletter, "approve", EDITION).returncode == 0
        approved = html.read_bytes()
        second = newsroom_cli(newsletter, "run", "--now", AS_OF, "--mirror", server.url)
        assert second.returncode == 0, second.stderr
        assert "is approved: not rebuilding it" in second.stderr
        assert html.read_bytes() == approved
        assert (www / "index.html").is_file()
        assert {a: sink.count(a) for a in addresses} == {a: 1 for a in addresses}
