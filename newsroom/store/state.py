"""The newsletter's SQLite state file: editions, published items, and later features' tables.

One file per newsletter, next to its config (``state.db`` by default). It carries a schema
version (``PRAGMA user_version``) and migrates itself forward when opened; every feature adds
its tables through a new entry in :data:`MIGRATIONS`, never by editing an old one. WAL mode
and short transactions let a reader (the subscription service) and a writer (a build or a
send) share it.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from newsroom.core.errors import StateError
from newsroom.core.model import Edition
from newsroom.core.urls import canonical_url
from newsroom.store import replays


def _script(db: sqlite3.Connection, sql: str) -> None:
    """Run several statements inside the caller's transaction (``executescript`` would commit)."""
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def _v1(db: sqlite3.Connection) -> None:
    _script(
        db,
        """
        CREATE TABLE editions (
            id           TEXT PRIMARY KEY,
            title        TEXT NOT NULL,
            date         TEXT NOT NULL,
            built_at     TEXT NOT NULL,
            published_at TEXT
        );
        CREATE TABLE edition_items (
            edition_id TEXT NOT NULL REFERENCES editions(id) ON DELETE CASCADE,
            item_id    TEXT NOT NULL,
            title      TEXT NOT NULL,
            PRIMARY KEY (edition_id, item_id)
        );
        CREATE INDEX edition_items_item ON edition_items(item_id);
        """,
    )


def _v2(db: sqlite3.Connection) -> None:
    # Items are also matched by canonical URL, so an item whose id scheme changed (a plugin
    # update) is still recognised as already sent.
    _script(
        db,
        """
        ALTER TABLE edition_items ADD COLUMN url TEXT NOT NULL DEFAULT '';
        CREATE INDEX edition_items_url ON edition_items(url);
        """,
    )


def _v3(db: sqlite3.Connection) -> None:
    # Subscribers, the delivery log and locks (newsroom send, newsroom serve).
    _script(
        db,
        """
        CREATE TABLE subscribers (
            id         INTEGER PRIMARY KEY,
            email      TEXT NOT NULL UNIQUE COLLATE NOCASE,
            name       TEXT NOT NULL DEFAULT '',
            status     TEXT NOT NULL CHECK (status IN
                         ('active', 'pending', 'unsubscribed', 'bounced', 'complained')),
            attributes TEXT NOT NULL DEFAULT '{}',
            uid        TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            reason     TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX subscribers_status ON subscribers(status);
        CREATE TABLE suppressed (
            email_hash TEXT PRIMARY KEY,
            status     TEXT NOT NULL,
            at         TEXT NOT NULL
        );
        CREATE TABLE sends (
            edition_id   TEXT PRIMARY KEY,
            content_hash TEXT NOT NULL,
            created_at   TEXT NOT NULL,
            completed_at TEXT
        );
        CREATE TABLE deliveries (
            edition_id    TEXT NOT NULL REFERENCES sends(edition_id) ON DELETE CASCADE,
            subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
            status        TEXT NOT NULL CHECK (status IN
                            ('queued', 'sending', 'sent', 'failed', 'bounced', 'skipped')),
            attempts      INTEGER NOT NULL DEFAULT 0,
            updated_at    TEXT NOT NULL,
            error         TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (edition_id, subscriber_id)
        ) WITHOUT ROWID;
        CREATE INDEX deliveries_status ON deliveries(edition_id, status);
        CREATE TABLE locks (
            name        TEXT PRIMARY KEY,
            holder      TEXT NOT NULL,
            pids        TEXT NOT NULL,
            host        TEXT NOT NULL,
            acquired_at TEXT NOT NULL,
            heartbeat   REAL NOT NULL
        );
        """,
    )


def _v4(db: sqlite3.Connection) -> None:
    # Language-model answers, so a rebuild asks nothing twice (the llm plugin), and
    # approvals of rendered editions (newsroom approve, [email] require_approval). IF NOT
    # EXISTS: a file whose version was set back by hand keeps these tables and still opens.
    _script(
        db,
        """
        CREATE TABLE IF NOT EXISTS llm_cache (
            key        TEXT PRIMARY KEY,
            model      TEXT NOT NULL,
            kind       TEXT NOT NULL,
            item_id    TEXT NOT NULL DEFAULT '',
            response   TEXT NOT NULL,
            created_at TEXT NOT NULL,
            used_at    TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS llm_cache_used ON llm_cache(used_at);
        CREATE TABLE IF NOT EXISTS approvals (
            edition_id   TEXT PRIMARY KEY,
            content_hash TEXT NOT NULL,
            approved_by  TEXT NOT NULL DEFAULT '',
            approved_at  TEXT NOT NULL
        );
        """,
    )


def _v5(db: sqlite3.Connection) -> None:
    # A delivery may be 'uncertain': handed over whole, never answered (newsroom send).
    # SQLite cannot change a CHECK constraint, so the table is copied into a new one.
    _script(
        db,
        """
        CREATE TABLE deliveries_v5 (
            edition_id    TEXT NOT NULL REFERENCES sends(edition_id) ON DELETE CASCADE,
            subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
            status        TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent',
                            'failed', 'bounced', 'skipped', 'uncertain')),
            attempts      INTEGER NOT NULL DEFAULT 0,
            updated_at    TEXT NOT NULL,
            error         TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (edition_id, subscriber_id)
        ) WITHOUT ROWID;
        INSERT INTO deliveries_v5 SELECT * FROM deliveries;
        DROP TABLE deliveries;
        ALTER TABLE deliveries_v5 RENAME TO deliveries;
        CREATE INDEX deliveries_status ON deliveries(edition_id, status);
        """,
    )


def _v6(db: sqlite3.Connection) -> None:
    # Signups waiting for confirmation (newsroom serve). A confirmation link carries a random
    # nonce; only its hash is kept, and a row is deleted when it is used, when it expires and
    # when the subscriber is erased or suppressed (the trigger), so that a link confirms the
    # one signup it was sent for, once. ``confirmation_mails`` counts the emails an address
    # got (by hash) for the per-address cooldown and daily limit. IF NOT EXISTS, as in _v4.
    _script(
        db,
        """
        CREATE TABLE IF NOT EXISTS signups (
            nonce_hash    TEXT PRIMARY KEY,
            subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
            added_row     INTEGER NOT NULL DEFAULT 0,
            created_at    REAL NOT NULL,
            expires_at    REAL NOT NULL
        );
        CREATE INDEX IF NOT EXISTS signups_subscriber ON signups(subscriber_id);
        CREATE INDEX IF NOT EXISTS signups_expiry ON signups(expires_at);
        CREATE TABLE IF NOT EXISTS confirmation_mails (
            email_hash TEXT PRIMARY KEY,
            first_at   REAL NOT NULL,
            last_at    REAL NOT NULL,
            count      INTEGER NOT NULL
        )
        """,
    )
    # One statement with a ";" inside: not for _script.
    db.execute(
        """
        CREATE TRIGGER IF NOT EXISTS signups_end_with_suppression
            AFTER UPDATE OF status ON subscribers
            WHEN NEW.status IN ('unsubscribed', 'bounced', 'complained')
                AND OLD.status IS NOT NEW.status
            BEGIN DELETE FROM signups WHERE subscriber_id = NEW.id; END
        """
    )


def _v7(db: sqlite3.Connection) -> None:
    # The ids of email services' reports seen lately (newsroom.store.replays), so that a
    # report sent again is refused. IF NOT EXISTS, as in _v4.
    _script(db, replays.SCHEMA)


#: Schema migrations in order; ``MIGRATIONS[n]`` takes a file from version n to n + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class EditionRecord:
    id: str
    title: str
    date: str
    built_at: dt.datetime
    published_at: dt.datetime | None


class State:
    """An open state file. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
            # Deleted rows are overwritten with zeros, not left in free pages: an erased
            # subscriber's address must not stay readable in the file.
            self.db.execute("PRAGMA secure_delete=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"{path}: cannot open the state file: {exc}") from exc

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def wipe_log(self, wait: float = 2.0) -> bool:
        """Copy the write-ahead log into the file and truncate it to zero bytes, so that no
        old version of a deleted row stays in ``state.db-wal``. Waits up to ``wait`` seconds
        for readers (a send reading the list); False when one still held an old snapshot."""
        self.db.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        try:
            busy, _, _ = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            self.db.execute("PRAGMA busy_timeout = 30000")  # as connect(timeout=30) set it
        return not busy

    @property
    def version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.version
        if version > SCHEMA_VERSION:
            raise StateError(
                f"{self.path} was written by a newer newsroom (schema {version}, this one "
                f"knows {SCHEMA_VERSION}); upgrade newsroom"
            )
        for target in range(version, SCHEMA_VERSION):
            with self.transaction() as db:
                MIGRATIONS[target](db)
                db.execute(f"PRAGMA user_version = {target + 1}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, taken at once so concurrent writers queue instead of failing."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    # -- editions -------------------------------------------------------------------------

    def record_edition(self, edition: Edition) -> None:
        """Remember a built edition and its items.

        Rebuilding an edition that was not published replaces its items; rebuilding one that
        went out only adds to them, so what readers received stays in the history.
        """
        built = edition.generated_at.astimezone(dt.UTC).isoformat()
        with self.transaction() as db:
            row = db.execute(
                "SELECT published_at FROM editions WHERE id = ?", (edition.id,)
            ).fetchone()
            db.execute(
                """INSERT INTO editions (id, title, date, built_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT(id) DO UPDATE SET title=excluded.title, date=excluded.date,
                   built_at=excluded.built_at""",
                (edition.id, edition.title, edition.date.isoformat(), built),
            )
            if not (row and row[0]):
                db.execute("DELETE FROM edition_items WHERE edition_id = ?", (edition.id,))
            db.executemany(
                "INSERT OR IGNORE INTO edition_items (edition_id, item_id, title, url) "
                "VALUES (?, ?, ?, ?)",
                [(edition.id, i.id, i.title, canonical_url(i.url)) for i in edition.items],
            )

    def mark_published(self, edition_id: str, when: dt.datetime | None = None) -> bool:
        """Mark an edition as gone out; its items are then skipped by the ``history`` filter.

        Returns False when the edition is unknown. Marking twice keeps the first time.
        """
        stamp = (when or dt.datetime.now(dt.UTC)).isoformat()
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE editions SET published_at = COALESCE(published_at, ?) WHERE id = ?",
                (stamp, edition_id),
            )
            return cur.rowcount > 0

    def editions(self) -> list[EditionRecord]:
        rows = self.db.execute(
            "SELECT id, title, date, built_at, published_at FROM editions ORDER BY date, id"
        ).fetchall()
        return [_record(r) for r in rows]

    def last_published(self, *, excluding: str | None = None) -> EditionRecord | None:
        """The most recently published edition other than ``excluding``."""
        row = self.db.execute(
            "SELECT id, title, date, built_at, published_at FROM editions "
            "WHERE published_at IS NOT NULL AND id IS NOT ? ORDER BY published_at DESC LIMIT 1",
            (excluding,),
        ).fetchone()
        return _record(row) if row else None

    def published_keys(self, *, excluding: str | None = None) -> tuple[set[str], set[str]]:
        """Item ids and canonical URLs of every published edition except ``excluding``."""
        rows = self.db.execute(
            """SELECT ei.item_id, ei.url FROM edition_items ei
               JOIN editions e ON e.id = ei.edition_id
               WHERE e.published_at IS NOT NULL AND e.id IS NOT ?""",
            (excluding,),
        ).fetchall()
        return {r[0] for r in rows}, {r[1] for r in rows if r[1]}


def _record(row: tuple[str, str, str, str, str | None]) -> EditionRecord:
    return EditionRecord(
        row[0],
        row[1],
        row[2],
        dt.datetime.fromisoformat(row[3]),
        dt.datetime.fromisoformat(row[4]) if row[4] else None,
    )
