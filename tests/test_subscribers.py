"""The subscriber list in a real SQLite state file, and the signing keys of its links."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from newsroom.deliver.subscribers import InvalidAddress, Subscribers, normalize_address
from newsroom.deliver.tokens import InvalidToken, Signer, load_keys, rotate
from newsroom.store.state import SCHEMA_VERSION, State

CSV = """email,name,company,Plan
jiwoo.kim@example.com,김지우,뉴스룸,pro
 Minjun.Park@EXAMPLE.org ,박민준,,free
not-an-address,누군가,,
seoyeon.lee@example.com,이서연,ACME,
,빈 줄,,
alex@exa mple.com,Alex,,
"""


@pytest.fixture
def subs(tmp_path: Path) -> Subscribers:
    return Subscribers(State(tmp_path / "state.db"))


def test_addresses_are_validated_and_normalised() -> None:
    assert normalize_address(" Minjun.Park@EXAMPLE.org ") == "Minjun.Park@example.org"
    assert normalize_address("user@bücher.example") == "user@bücher.example"
    for bad in ("no-at-sign", "a@b", "two@@example.com", "x@example.com\r\nBcc: y@z.com"):
        with pytest.raises(InvalidAddress):
            normalize_address(bad)


def test_import_reports_invalid_rows_by_line_and_keeps_the_rest(subs: Subscribers) -> None:
    report = subs.import_csv(io.StringIO(CSV))
    assert report.added == 3
    assert [line for line, _ in report.invalid] == [4, 6, 7]
    assert "not a valid address" in report.invalid[0][1]
    jiwoo = subs.get("JIWOO.KIM@example.com")
    assert jiwoo is not None and jiwoo.name == "김지우" and jiwoo.status == "active"
    # Extra columns are attributes, with names usable in templates.
    assert jiwoo.attributes == {"company": "뉴스룸", "plan": "pro"}


def test_reimport_updates_and_never_duplicates(subs: Subscribers) -> None:
    subs.import_csv(io.StringIO(CSV))
    report = subs.import_csv(io.StringIO("email,name\njiwoo.kim@example.com,김지우 기자\n"))
    assert (report.added, report.updated) == (0, 1)
    assert sum(subs.counts().values()) == 3
    jiwoo = subs.get("jiwoo.kim@example.com")
    assert jiwoo is not None and jiwoo.name == "김지우 기자"
    assert jiwoo.attributes["company"] == "뉴스룸"  # columns not in the new file are kept


def test_a_repeated_address_in_one_file_is_reported_not_merged(subs: Subscribers) -> None:
    """Before, the later row replaced the earlier one silently (a Korean name was lost) and
    the import said "updated"."""
    text = (
        "email,name,company\n"
        "jiwoo.kim@example.com,김지우,뉴스룸\n"
        "seoyeon.lee@example.com,이서연,ACME\n"
        "Jiwoo.Kim@EXAMPLE.com,,Other\n"
    )
    report = subs.import_csv(io.StringIO(text))
    assert (report.added, report.updated) == (2, 0)
    assert report.duplicates == [(4, 2, "Jiwoo.Kim@example.com")]
    assert not report.complete
    jiwoo = subs.get("jiwoo.kim@example.com")
    assert jiwoo is not None and jiwoo.name == "김지우"
    assert jiwoo.attributes == {"company": "뉴스룸"}


def test_columns_and_cells_that_cannot_be_kept_are_reported(subs: Subscribers) -> None:
    text = (
        "email,name,회사,plan,phone #\n"
        "jiwoo.kim@example.com,김지우,뉴스룸,pro,010\n"
        "minjun.park@example.com,Park, Minjun,ACME,free,011\n"
    )
    report = subs.import_csv(io.StringIO(text))
    assert report.added == 1
    assert report.ignored_columns == [
        "'회사' (not a usable attribute name: use a-z, 0-9, _ and -, e.g. company)",
        "'phone #' (not a usable attribute name: use a-z, 0-9, _ and -, e.g. company)",
    ]
    ((line, problem),) = report.invalid
    assert line == 3 and problem.startswith("6 cells for a header of 5 columns")
    assert subs.get("minjun.park@example.com") is None  # not imported half-shifted


def test_the_import_command_names_every_row_and_column_it_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    assert subprocess.run([sys.executable, "-m", "newsroom", "init", str(tmp_path)]).returncode == 0
    readers = tmp_path / "readers.csv"
    readers.write_text(
        "email,name,회사\njiwoo.kim@example.com,김지우,뉴스룸\njiwoo.kim@example.com,,\n",
        "utf-8",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsroom",
            "-c",
            str(tmp_path / "newsroom.toml"),
            "subscribers",
            "import",
            str(readers),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 4, result.stderr
    assert f"{readers}: column not imported: '회사'" in result.stderr
    assert f"{readers}:3: skipped: jiwoo.kim@example.com is on line 2 already" in result.stderr
    assert "1 added, 0 updated, 0 unchanged" in result.stdout
    assert "1 duplicate" in result.stdout


@pytest.mark.parametrize("status", ["unsubscribed", "bounced", "complained"])
def test_suppression_wins_over_import_and_add(subs: Subscribers, status: str) -> None:
    subs.import_csv(io.StringIO(CSV))
    sub = subs.get("seoyeon.lee@example.com")
    assert sub is not None
    subs.set_status(sub.id, status, "test")
    report = subs.import_csv(io.StringIO(CSV))
    assert report.suppressed == ["seoyeon.lee@example.com"]
    _, outcome = subs.add("seoyeon.lee@example.com", "이서연")
    assert outcome == "suppressed"
    after = subs.get("seoyeon.lee@example.com")
    assert after is not None and after.status == status


def test_erased_and_removed_suppressed_addresses_are_not_imported_again(
    subs: Subscribers,
) -> None:
    subs.import_csv(io.StringIO(CSV))
    jiwoo = subs.get("jiwoo.kim@example.com")
    assert jiwoo is not None
    subs.erase(jiwoo)
    assert subs.get("jiwoo.kim@example.com") is None
    # Nothing of the address is kept but a hash.
    rows = subs.db.execute("SELECT * FROM suppressed").fetchall()
    assert rows and all("jiwoo" not in str(r) for r in rows)
    assert subs.import_csv(io.StringIO(CSV)).suppressed == ["jiwoo.kim@example.com"]

    minjun = subs.get("minjun.park@example.org")
    assert minjun is not None
    subs.set_status(minjun.id, "bounced", "550 no such user")
    assert subs.remove("minjun.park@example.org")
    assert subs.add("Minjun.Park@example.org")[1] == "suppressed"
    # Removing an active subscriber is an administrator's choice: they may come back.
    assert subs.remove("seoyeon.lee@example.com")
    assert subs.add("seoyeon.lee@example.com")[1] == "added"


def test_the_subscriber_confirming_reactivates_a_suppressed_address(subs: Subscribers) -> None:
    sub, _ = subs.add("a@example.com", status="active")
    assert sub is not None
    subs.set_status(sub.id, "unsubscribed")
    subs.confirm(sub)
    again = subs.get("a@example.com")
    assert again is not None and again.status == "active"


def test_export_round_trips_through_import(subs: Subscribers, tmp_path: Path) -> None:
    subs.import_csv(io.StringIO(CSV))
    out = io.StringIO()
    assert subs.export_csv(out) == 3
    other = Subscribers(State(tmp_path / "other.db"))
    report = other.import_csv(io.StringIO(out.getvalue()))
    assert report.added == 3 and not report.invalid
    assert [(s.email, s.name, s.attributes) for s in other.iter()] == [
        (s.email, s.name, s.attributes) for s in subs.iter()
    ]


def test_a_csv_without_an_email_column_is_refused(subs: Subscribers) -> None:
    with pytest.raises(Exception, match="needs an `email` column"):
        subs.import_csv(io.StringIO("mail,name\na@example.com,A\n"))


def test_upgrading_a_version_2_state_file_adds_the_list(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with State(path):
        pass
    db = sqlite3.connect(path)
    for table in ("deliveries", "sends", "locks", "suppressed", "subscribers"):
        db.execute(f"DROP TABLE {table}")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    with State(path) as state:
        assert state.version == SCHEMA_VERSION
        Subscribers(state).add("a@example.com")


# -- signing keys ---------------------------------------------------------------------------


def test_rotated_keys_keep_old_links_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSROOM_SECRET_KEY", raising=False)
    keys = tmp_path / "signing-keys"
    rotate(keys)
    old = Signer(load_keys(keys))
    token = old.subscriber_token("uid-1")
    rotate(keys)
    assert len(load_keys(keys)) == 2
    new = Signer(load_keys(keys))
    assert new.read_subscriber_token(token) == "uid-1"  # signed years ago, still valid
    assert new.subscriber_token("uid-1") != token  # new links use the new key
    assert keys.stat().st_mode & 0o077 == 0  # private to its owner
    # Dropping the old key from the file is how an old key is retired.
    keys.write_text(keys.read_text().splitlines()[0] + "\n")
    with pytest.raises(InvalidToken):
        Signer(load_keys(keys)).read_subscriber_token(token)


def test_forged_and_cross_purpose_tokens_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", "k" * 32)
    signer = Signer(load_keys(None))
    token = signer.subscriber_token("uid-1")
    payload, _, signature = token.rpartition(".")
    with pytest.raises(InvalidToken):
        signer.read_subscriber_token(payload + "." + signature[::-1])
    with pytest.raises(InvalidToken):
        signer.read_subscriber_token(Signer(["x" * 32]).subscriber_token("uid-1"))
    # An unsubscribe token is not a signup confirmation, and the other way round.
    with pytest.raises(InvalidToken):
        signer.read_confirm_token(token, max_age=3600)
    with pytest.raises(InvalidToken):
        signer.read_subscriber_token(signer.confirm_token("uid-1"))


def test_missing_or_short_keys_are_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSROOM_SECRET_KEY", raising=False)
    with pytest.raises(Exception, match="no signing key: set NEWSROOM_SECRET_KEY"):
        load_keys(tmp_path / "missing")
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", "short")
    with pytest.raises(Exception, match="at least 16 characters"):
        load_keys(None)


def test_an_exported_status_column_keeps_unsubscribes_when_moving_a_list(
    subs: Subscribers, tmp_path: Path
) -> None:
    subs.import_csv(io.StringIO(CSV))
    sub = subs.get("seoyeon.lee@example.com")
    assert sub is not None
    subs.set_status(sub.id, "unsubscribed")
    out = io.StringIO()
    subs.export_csv(out)
    other = Subscribers(State(tmp_path / "other.db"))
    other.import_csv(io.StringIO(out.getvalue()))
    assert other.counts()["unsubscribed"] == 1 and other.counts()["active"] == 2


def test_exported_names_cannot_run_as_spreadsheet_formulas(
    subs: Subscribers, tmp_path: Path
) -> None:
    subs.add("eve@example.com", '=HYPERLINK("http://evil.example","x")', {"note": "+1"})
    out = io.StringIO()
    subs.export_csv(out)
    row = out.getvalue().splitlines()[1]
    assert "'=HYPERLINK" in row and ",'+1," in row
    other = Subscribers(State(tmp_path / "other.db"))
    other.import_csv(io.StringIO(out.getvalue()))
    eve = other.get("eve@example.com")
    assert eve is not None and eve.name.startswith("=HYPERLINK") and eve.attributes["note"] == "+1"


def test_rotating_keeps_the_old_keys_and_the_file_private(tmp_path: Path) -> None:
    keys = tmp_path / "signing-keys"
    keys.write_text("an-old-key-that-signed-links-for-years\n")
    keys.chmod(0o644)
    rotate(keys)
    lines = keys.read_text().splitlines()
    assert len(lines) == 2 and lines[1] == "an-old-key-that-signed-links-for-years"
    assert keys.stat().st_mode & 0o077 == 0
    assert not list(tmp_path.glob(".*tmp"))
