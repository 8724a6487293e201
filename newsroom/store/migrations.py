"""The state's schema, in numbered steps: ``STEPS[n]`` takes a state from version n to
n + 1, on either engine. Each step is written twice, once in SQLite's DDL (a function over
the connection, since SQLite cannot alter a constraint and copies a table instead) and once
in PostgreSQL's (a script); the numbering, the tables and their columns are the same.

A feature adds its tables with a new step at the end, never by editing an old one.
An SQLite file migrates itself when it is opened (it has one user at a time, who opened
it); a PostgreSQL database only through ``newsroom state migrate``, so that no schema
changes under a running service or a send on another machine.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass


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
    # A state shared by several machines. Several senders of one edition (newsroom send
    # --join): each queued row a sender has taken into its queue names that sender's lease,
    # so the others pass it over while the lease lives, and send it (or send again what it
    # left 'sending') once it has ended. Several subscription services: the moments of
    # rate-limited events (signups per client, confirmation emails), so that the limits
    # hold across all of them (newsroom.store.ratelimits).
    _script(
        db,
        """
        ALTER TABLE deliveries ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
        CREATE INDEX deliveries_claim ON deliveries(edition_id, status, claimed_by);
        CREATE TABLE IF NOT EXISTS rate_events (
            key TEXT NOT NULL,
            at  REAL NOT NULL
        );
        CREATE INDEX IF NOT EXISTS rate_events_key ON rate_events(key, at)
        """,
    )


def _v8(db: sqlite3.Connection) -> None:
    # The ids of email services' reports seen lately (newsroom.store.replays), so that a
    # report sent again is refused.
    _script(
        db,
        """
        CREATE TABLE IF NOT EXISTS feedback_seen (
            receiver   TEXT NOT NULL,
            id         TEXT NOT NULL,
            expires_at REAL NOT NULL,
            PRIMARY KEY (receiver, id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS feedback_seen_expiry ON feedback_seen(expires_at)
        """,
    )


_PG_V1 = """
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
"""

_PG_V2 = """
ALTER TABLE edition_items ADD COLUMN url TEXT NOT NULL DEFAULT '';
CREATE INDEX edition_items_url ON edition_items(url);
"""

# Addresses are unique and looked up regardless of case, as SQLite's COLLATE NOCASE does:
# a nondeterministic ICU collation (no extension to install, unlike citext).
_PG_V3 = """
CREATE COLLATION IF NOT EXISTS newsroom_nocase
    (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE subscribers (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    email      TEXT NOT NULL UNIQUE COLLATE newsroom_nocase,
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
    subscriber_id BIGINT NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    status        TEXT NOT NULL CONSTRAINT deliveries_status_check CHECK (status IN
                    ('queued', 'sending', 'sent', 'failed', 'bounced', 'skipped')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    updated_at    TEXT NOT NULL,
    error         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (edition_id, subscriber_id)
);
CREATE INDEX deliveries_status ON deliveries(edition_id, status);
CREATE INDEX deliveries_subscriber ON deliveries(subscriber_id);
CREATE TABLE locks (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    pids        TEXT NOT NULL,
    host        TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    heartbeat   DOUBLE PRECISION NOT NULL
);
"""

_PG_V4 = """
CREATE TABLE llm_cache (
    key        TEXT PRIMARY KEY,
    model      TEXT NOT NULL,
    kind       TEXT NOT NULL,
    item_id    TEXT NOT NULL DEFAULT '',
    response   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at    TEXT NOT NULL
);
CREATE INDEX llm_cache_used ON llm_cache(used_at);
CREATE TABLE approvals (
    edition_id   TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    approved_by  TEXT NOT NULL DEFAULT '',
    approved_at  TEXT NOT NULL
);
"""

_PG_V5 = """
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check CHECK (status IN
    ('queued', 'sending', 'sent', 'failed', 'bounced', 'skipped', 'uncertain'));
"""

_PG_V6 = """
CREATE TABLE signups (
    nonce_hash    TEXT PRIMARY KEY,
    subscriber_id BIGINT NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    added_row     INTEGER NOT NULL DEFAULT 0,
    created_at    DOUBLE PRECISION NOT NULL,
    expires_at    DOUBLE PRECISION NOT NULL
);
CREATE INDEX signups_subscriber ON signups(subscriber_id);
CREATE INDEX signups_expiry ON signups(expires_at);
CREATE TABLE confirmation_mails (
    email_hash TEXT PRIMARY KEY,
    first_at   DOUBLE PRECISION NOT NULL,
    last_at    DOUBLE PRECISION NOT NULL,
    count      INTEGER NOT NULL
);
CREATE FUNCTION signups_end_with_suppression() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM signups WHERE subscriber_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER signups_end_with_suppression
    AFTER UPDATE OF status ON subscribers FOR EACH ROW
    WHEN (NEW.status IN ('unsubscribed', 'bounced', 'complained')
          AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION signups_end_with_suppression();
"""

_PG_V7 = """
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
CREATE INDEX deliveries_claim ON deliveries(edition_id, status, claimed_by);
CREATE TABLE rate_events (
    key TEXT NOT NULL,
    at  DOUBLE PRECISION NOT NULL
);
CREATE INDEX rate_events_key ON rate_events(key, at);
"""


_PG_V8 = """
CREATE TABLE feedback_seen (
    receiver   TEXT NOT NULL,
    id         TEXT NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (receiver, id)
);
CREATE INDEX feedback_seen_expiry ON feedback_seen(expires_at);
"""


@dataclass(frozen=True)
class Step:
    """One numbered step of the schema, for both engines."""

    number: int
    sqlite: Callable[[sqlite3.Connection], None]
    postgresql: str


STEPS: list[Step] = [
    Step(1, _v1, _PG_V1),
    Step(2, _v2, _PG_V2),
    Step(3, _v3, _PG_V3),
    Step(4, _v4, _PG_V4),
    Step(5, _v5, _PG_V5),
    Step(6, _v6, _PG_V6),
    Step(7, _v7, _PG_V7),
    Step(8, _v8, _PG_V8),
]
#: The SQLite side of each step, in order (``MIGRATIONS[n]`` takes a file from n to n + 1).
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [s.sqlite for s in STEPS]
SCHEMA_VERSION = len(STEPS)
