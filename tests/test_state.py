"""The SQLite state file: schema versions and forward migration."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from newsroom.core.errors import StateError
from newsroom.core.model import Edition, Item, Newsletter, Section
from newsroom.store.state import MIGRATIONS, SCHEMA_VERSION, State


def edition(eid: str, urls: list[str]) -> Edition:
    items = [Item(url=u, title=f"title {u}") for u in urls]
    return Edition(
        id=eid,
        date=dt.date(2026, 2, 14),
        title="t",
        newsletter=Newsletter(title="n"),
        generated_at=dt.datetime(2026, 2, 14, tzinfo=dt.UTC),
        sections=[Section(id="s", title="S", items=items)],
    )


def test_new_file_has_current_schema(tmp_path: Path) -> None:
    with State(tmp_path / "state.db") as state:
        assert state.version == SCHEMA_VERSION
        assert state.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_upgrades_a_version_1_file_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db.execute(
        "INSERT INTO editions VALUES ('2026-02-13', 'old', '2026-02-13', "
        "'2026-02-13T06:00:00+00:00', '2026-02-13T07:00:00+00:00')"
    )
    db.execute("INSERT INTO edition_items VALUES ('2026-02-13', 'abc123', 'an old item')")
    db.commit()
    db.close()

    with State(path) as state:
        assert state.version == SCHEMA_VERSION
        ids, urls = state.published_keys()
        assert ids == {"abc123"}
        assert [e.id for e in state.editions()] == ["2026-02-13"]
        state.record_edition(edition("2026-02-14", ["https://example.org/a?utm_source=x"]))
        state.mark_published("2026-02-14")
        ids, urls = state.published_keys()
        assert "https://example.org/a" in urls


def test_refuses_a_newer_file(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.close()
    with pytest.raises(StateError, match="newer newsroom"):
        State(path)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match="cannot open the state file"):
        State(path)


def test_rebuild_replaces_items_and_publish_keeps_first_time(tmp_path: Path) -> None:
    with State(tmp_path / "state.db") as state:
        state.record_edition(edition("2026-02-14", ["https://a.example/1", "https://a.example/2"]))
        state.record_edition(edition("2026-02-14", ["https://a.example/3"]))
        assert state.published_keys() == (set(), set())
        assert state.mark_published("2026-02-14")
        first = state.editions()[0].published_at
        assert state.mark_published("2026-02-14")
        assert state.editions()[0].published_at == first
        _, urls = state.published_keys()
        assert urls == {"https://a.example/3"}
        assert state.published_keys(excluding="2026-02-14") == (set(), set())
        assert not state.mark_published("nope")


def test_rebuilding_a_published_edition_keeps_what_went_out(tmp_path: Path) -> None:
    with State(tmp_path / "state.db") as state:
        state.record_edition(edition("2026-02-14", ["https://a.example/sent"]))
        state.mark_published("2026-02-14")
        state.record_edition(edition("2026-02-14", ["https://a.example/new"]))
        _, urls = state.published_keys()
        assert urls == {"https://a.example/sent", "https://a.example/new"}


def test_built_at_is_the_builds_clock(tmp_path: Path) -> None:
    with State(tmp_path / "state.db") as state:
        state.record_edition(edition("2026-02-14", ["https://a.example/1"]))
        assert state.editions()[0].built_at == dt.datetime(2026, 2, 14, tzinfo=dt.UTC)
