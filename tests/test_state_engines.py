"""The state on both engines: an SQLite file and a PostgreSQL database (a real server from
Debian's packages, started by the tests). The schema's numbered steps, `newsroom state
migrate`, `newsroom state copy` and the run lock as a lease."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import newsroom_cli, open_state, use_postgres
from test_state import edition

from newsroom.core.errors import StateError
from newsroom.deliver.subscribers import Subscribers
from newsroom.store.locks import Lock, LockHeld
from newsroom.store.migrations import STEPS
from newsroom.store.state import SCHEMA_VERSION, State


def test_a_database_is_migrated_only_on_request(postgres_db: Any) -> None:
    with pytest.raises(StateError, match="run `newsroom state migrate`"):
        State(postgres_db.url)
    with State(postgres_db.url, migrate=True) as state:
        assert state.version == SCHEMA_VERSION == len(STEPS)
        assert state.path is None
    # Migrating again finds nothing to do; opening now works.
    with State(postgres_db.url) as state:
        assert state.migrate_database() == []
        state.record_edition(edition("2026-02-14", ["https://example.org/a?utm_source=x"]))
        assert state.mark_published("2026-02-14")
        assert not state.mark_published("2026-02-15")
        ids, urls = state.published_keys()
        assert urls == {"https://example.org/a"}
        assert state.last_published(excluding="x").id == "2026-02-14"  # type: ignore[union-attr]
        assert state.last_published(excluding="2026-02-14") is None


def test_a_database_migrates_step_by_step_from_an_older_schema(postgres_db: Any) -> None:
    with postgres_db.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE newsroom_schema (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO newsroom_schema VALUES (2)")
        for step in STEPS[:2]:
            conn.execute(step.postgresql.encode())
        conn.execute(
            "INSERT INTO editions VALUES "
            "('e', 't', '2026-02-13', '2026-02-13T06:00:00+00:00', NULL)"
        )
    with pytest.raises(StateError, match="schema 2, this newsroom needs"):
        State(postgres_db.url)
    with State(postgres_db.url, migrate=True) as state:
        assert state.version == SCHEMA_VERSION
        assert [e.id for e in state.editions()] == ["e"]


def test_the_password_never_goes_in_the_url(postgres_db: Any) -> None:
    host = postgres_db.url.split("@", 1)[1]
    with pytest.raises(StateError, match="carries a password") as caught:
        State(f"postgresql://newsroom:hunter2@{host}")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(StateError, match="cannot connect"):
        State(postgres_db.url, password="wrong")


def test_addresses_are_unique_regardless_of_case_on_both_engines(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    location: Path | str = tmp_path / "state.db"
    if engine == "postgresql":
        location = request.getfixturevalue("postgres_db").url
    with State(location, migrate=True) as state:
        subs = Subscribers(state)
        first, outcome = subs.add("Reader@Example.com", "Reader")
        assert outcome == "added" and first is not None
        _, again = subs.add("reader@example.com")
        assert again in ("updated", "unchanged")
        assert subs.counts()["active"] == 1
        assert subs.get("READER@example.com") is not None
        report = subs.import_rows([(2, {"email": f"r{i}@example.com"}) for i in range(50)])
        assert report.added == 50
        assert sum(subs.counts().values()) == 51


def test_state_copy_to_postgresql_and_back_is_verified_and_safe_to_rerun(
    newsletter: Path, postgres_db: Any, tmp_path: Path
) -> None:
    with open_state(newsletter) as state:
        Subscribers(state).import_rows(
            (i, {"email": f"reader{i}@example.com", "name": "김지우"}) for i in range(300)
        )
        state.record_edition(edition("2026-02-20", ["https://example.org/b"]))
        before = state.db.execute("SELECT COUNT(*) FROM edition_items").fetchone()[0]
    first = newsroom_cli(newsletter, "state", "copy", "--to", postgres_db.url)
    assert first.returncode == 0, first.stderr
    assert "verified" in first.stdout
    again = newsroom_cli(newsletter, "state", "copy", "--to", postgres_db.url)
    assert again.returncode == 0, again.stderr
    assert "already held the same" in again.stdout
    with State(postgres_db.url) as db:
        assert db.db.execute("SELECT COUNT(*) FROM subscribers").fetchone()[0] == 300
        assert db.db.execute("SELECT COUNT(*) FROM edition_items").fetchone()[0] == before
        # New rows get ids after the copied ones.
        sub, outcome = Subscribers(db).add("new@example.com")
        assert outcome == "added" and sub is not None and sub.id > 300
    # A file that differs is never merged into.
    other = tmp_path / "other.db"
    with State(other) as state:
        Subscribers(state).add("someone@example.com")
    refused = newsroom_cli(newsletter, "state", "copy", "--to", str(other))
    assert refused.returncode != 0
    assert "is not empty" in refused.stderr
    # And back, from the database to a new file.
    use_postgres_config = newsletter.read_text("utf-8") + f'\n[state]\nurl = "{postgres_db.url}"\n'
    newsletter.write_text(use_postgres_config, "utf-8")
    back = newsroom_cli(newsletter, "state", "copy", "--to", str(tmp_path / "back.db"))
    assert back.returncode == 0, back.stderr
    with State(tmp_path / "back.db") as state:
        assert Subscribers(state).get("new@example.com") is not None
        assert state.db.execute("SELECT COUNT(*) FROM subscribers").fetchone()[0] == 301


def test_state_migrate_command(newsletter: Path, postgres_db: Any) -> None:
    text = newsletter.read_text("utf-8") + f'\n[state]\nurl = "{postgres_db.url}"\n'
    newsletter.write_text(text, "utf-8")
    refused = newsroom_cli(newsletter, "subscribers", "list")
    assert refused.returncode != 0
    assert "newsroom state migrate" in refused.stderr
    done = newsroom_cli(newsletter, "state", "migrate")
    assert done.returncode == 0, done.stderr
    assert f"schema {SCHEMA_VERSION}" in done.stdout
    assert newsroom_cli(newsletter, "subscribers", "list").returncode == 0


def _holder(location: str, holder: str) -> subprocess.Popen[str]:
    code = (
        "import sys, time; from newsroom.store.state import State; "
        "from newsroom.store.locks import Lock; state = State(sys.argv[1]); "
        f"lock = Lock(state, 'delivery', {holder!r}, lease=5); lock.acquire(); "
        "lock.renew_in_background(); print('held', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, location],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_the_run_lock_is_a_lease_never_stolen_from_a_live_holder(postgres_db: Any) -> None:
    import time

    with State(postgres_db.url, migrate=True):
        pass
    holder = _holder(postgres_db.url, "newsroom run 2026-02-14")

    def elsewhere(holder: str, **kwargs: Any) -> Lock:
        # A lock taken on another machine: only the lease's heartbeat tells it the
        # holder lives (its pids mean nothing there).
        lock = Lock(state, "delivery", holder, lease=5, **kwargs)
        lock.host = "another-machine"
        return lock

    try:
        with State(postgres_db.url) as state:
            # The holder renews its lease (every quarter of it), so even after more than
            # a lease without any work it is held.
            time.sleep(6)
            with pytest.raises(LockHeld, match="locked by newsroom run 2026-02-14"):
                elsewhere("newsroom send 2026-02-14").acquire()
            # A send of the same edition may join a send, never a run.
            with pytest.raises(LockHeld):
                elsewhere("newsroom send 2026-02-14", join=True).acquire()
            holder.kill()
            holder.wait()
            # Dead, seen from another machine: free once its lease has run out, not before.
            with pytest.raises(LockHeld):
                elsewhere("newsroom send 2026-02-14").acquire()
            time.sleep(5.5)
            taken = elsewhere("newsroom send 2026-02-14")
            taken.acquire()
            info = taken.current()
            assert info is not None and info.host == "another-machine"
            assert info.pids[0][0] == os.getpid()
            taken.release()
            assert taken.current() is None
    finally:
        holder.kill()


def test_last_published_on_both_engines(engine: str, tmp_path: Path, request: Any) -> None:
    location: Path | str = tmp_path / "state.db"
    if engine == "postgresql":
        location = request.getfixturevalue("postgres_db").url
    with State(location, migrate=True) as state:
        state.record_edition(edition("2026-02-13", ["https://example.org/1"]))
        state.mark_published("2026-02-13", dt.datetime(2026, 2, 13, tzinfo=dt.UTC))
        state.record_edition(edition("2026-02-14", ["https://example.org/2"]))
        assert state.last_published(excluding="2026-02-14").id == "2026-02-13"  # type: ignore[union-attr]
        assert [e.id for e in state.editions()] == ["2026-02-13", "2026-02-14"]


__all__ = ["use_postgres"]


def test_an_import_in_chunks_matches_row_by_row_on_both_engines(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """2,500 rows (three chunks): new addresses, repeats in other case within and across
    chunks, an address on the list, an erased one and invalid rows, all as one at a time
    would have them."""
    location: Path | str = tmp_path / "state.db"
    if engine == "postgresql":
        location = request.getfixturevalue("postgres_db").url
    with State(location, migrate=True) as state:
        subs = Subscribers(state)
        subs.add("kept@example.com", "Kept", status="active")
        gone, _ = subs.add("gone@example.com")
        assert gone is not None
        subs.erase(gone)
        rows: list[tuple[int, dict[str, str]]] = []
        for i in range(2400):
            rows.append((i + 2, {"email": f"r{i}@example.com", "name": f"R {i}", "city": "서울"}))
        rows.insert(10, (9000, {"email": "R5@Example.com", "name": "Again"}))  # same chunk
        rows.append((9001, {"email": "r7@EXAMPLE.com", "name": "Later"}))  # another chunk
        rows.append((9002, {"email": "KEPT@example.com", "name": "Renamed"}))
        rows.append((9003, {"email": "gone@example.com"}))
        rows.append((9004, {"email": "not an address"}))
        rows.append((9005, {"email": "", "name": "nobody"}))
        report = subs.import_rows(rows)
        assert report.added == 2400
        assert report.updated == 1
        # A second row with an address of an earlier one is skipped and named, in the same
        # chunk or another: the first row counts.
        assert report.duplicates == [(9000, 7, "R5@example.com"), (9001, 9, "r7@example.com")]
        assert report.suppressed == ["gone@example.com"]
        assert [line for line, _ in report.invalid] == [9004, 9005]
        assert sum(subs.counts().values()) == 2401
        assert subs.get("r5@example.com").name == "R 5"  # type: ignore[union-attr]
        assert subs.get("r7@example.com").name == "R 7"  # type: ignore[union-attr]
        assert subs.get("kept@example.com").name == "Renamed"  # type: ignore[union-attr]
        assert subs.get("r2000@example.com").attributes == {"city": "서울"}  # type: ignore[union-attr]
        assert subs.get("gone@example.com") is None
