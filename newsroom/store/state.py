"""The newsletter's state: editions, published items, and later features' tables.

By default one SQLite file per newsletter, next to its config (``state.db``); with ``[state]
url`` a PostgreSQL database that several machines share (:mod:`newsroom.store.engine`). It
carries a schema version (``PRAGMA user_version``, or the ``newsroom_schema`` table) and the
steps of :mod:`newsroom.store.migrations`: a file migrates itself forward when opened, a
database through ``newsroom state migrate``. WAL mode and short transactions let a reader
(the subscription service) and a writer (a build or a send) share a file.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from newsroom.core.errors import StateError
from newsroom.core.model import Edition
from newsroom.core.urls import canonical_url
from newsroom.store.engine import (
    Connection,
    Engine,
    PostgresConnection,
    Target,
    write_transaction,
)
from newsroom.store.migrations import MIGRATIONS, SCHEMA_VERSION, STEPS

if TYPE_CHECKING:
    from newsroom.config import Config

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "EditionRecord", "State", "Target"]


@dataclass(frozen=True)
class EditionRecord:
    id: str
    title: str
    date: str
    built_at: dt.datetime
    published_at: dt.datetime | None


class State:
    """An open state file or database. Use as a context manager, or call :meth:`close`.

    ``location`` is the file's path or the database's ``postgresql://`` URL (its password
    is ``password``, or the environment's ``NEWSROOM_STATE_PASSWORD``). ``migrate``: bring
    a database's schema up to date (``newsroom state migrate``); a file always is.
    """

    def __init__(
        self,
        location: Path | str | Target,
        password: str | None = None,
        *,
        migrate: bool = False,
        connection: Connection | None = None,
    ) -> None:
        self.target = location if isinstance(location, Target) else Target(location, password)
        self.engine: Engine = self.target.engine
        self.label = self.target.label
        self.path = Path(self.label) if isinstance(self.target.location, Path) else None
        """The state file (None for a database)."""
        self._owned = connection is None
        if connection is not None:
            # A connection of a pool (newsroom.store.pool), whose state was checked when
            # the pool opened; it goes back to the pool, never closed here.
            self.db = connection
            return
        self.db = self.target.connect()
        try:
            if self.path is not None:
                self.db.execute("PRAGMA journal_mode=WAL")
                # Deleted rows are overwritten with zeros, not left in free pages: an erased
                # subscriber's address must not stay readable in the file.
                self.db.execute("PRAGMA secure_delete=ON")
                self._migrate()
            else:
                self._check_database(migrate)
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise StateError(f"{self.label}: cannot open the state file: {exc}") from exc
        except BaseException:
            self.db.close()
            raise

    @classmethod
    def of(cls, config: Config) -> State:
        """The state ``config`` names (``[state] url``, else the file)."""
        return cls(config.state_location, config.state_password)

    def reopen(self) -> State:
        """Another connection to the same state (a connection never crosses a thread)."""
        return State(self.target)

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owned:
            self.db.close()

    def wipe_log(self, wait: float = 2.0) -> bool:
        """Copy the write-ahead log into the file and truncate it to zero bytes, so that no
        old version of a deleted row stays in ``state.db-wal``. Waits up to ``wait`` seconds
        for readers (a send reading the list); False when one still held an old snapshot.
        A database keeps its own write-ahead log and backups (their retention is the
        database's to configure); nothing to do here."""
        if self.path is None:
            return True
        self.db.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        try:
            busy, _, _ = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            self.db.execute("PRAGMA busy_timeout = 30000")  # as connect(timeout=30) set it
        return not busy

    @property
    def version(self) -> int:
        if self.path is None:
            return self._database_version()
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _too_new(self, version: int) -> StateError:
        return StateError(
            f"{self.label} was written by a newer newsroom (schema {version}, this one "
            f"knows {SCHEMA_VERSION}); upgrade newsroom"
        )

    def _migrate(self) -> None:
        version = self.version
        if version > SCHEMA_VERSION:
            raise self._too_new(version)
        for target in range(version, SCHEMA_VERSION):
            with self.transaction() as db:
                MIGRATIONS[target](db)  # type: ignore[arg-type]
                db.execute(f"PRAGMA user_version = {target + 1}")

    # -- a database's schema ----------------------------------------------------------------

    def _database_version(self) -> int:
        row = self.db.execute("SELECT to_regclass('newsroom_schema')").fetchone()
        if row[0] is None:
            return 0
        return int(self.db.execute("SELECT version FROM newsroom_schema").fetchone()[0])

    def _check_database(self, migrate: bool) -> None:
        version = self.version
        if version > SCHEMA_VERSION:
            raise self._too_new(version)
        if version < SCHEMA_VERSION and not migrate:
            raise StateError(
                f"{self.label} has schema {version}, this newsroom needs {SCHEMA_VERSION}: "
                "run `newsroom state migrate` (once, from one machine) before using it"
            )
        if migrate:
            self.migrate_database()

    def migrate_database(self) -> list[int]:
        """Apply the steps a database lacks, each in a transaction of its own; the numbers
        of the steps applied. Two machines migrating at once take turns (the writers'
        lock), and the second finds nothing left to do."""
        applied = []
        for step in STEPS:
            with self.transaction() as db:
                db.execute("CREATE TABLE IF NOT EXISTS newsroom_schema (version INTEGER NOT NULL)")
                row = db.execute("SELECT version FROM newsroom_schema").fetchone()
                if row is None:
                    db.execute("INSERT INTO newsroom_schema (version) VALUES (0)")
                    current = 0
                else:
                    current = int(row[0])
                if current >= step.number:
                    continue
                # The script goes as it is: no parameters, and psycopg runs several
                # statements of one string in one call.
                self._raw(step.postgresql)
                db.execute("UPDATE newsroom_schema SET version = ?", (step.number,))
            applied.append(step.number)
        return applied

    def _raw(self, script: str) -> None:
        assert isinstance(self.db, PostgresConnection)
        self.db.conn.execute(script.encode("utf-8"))

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction, taken at once so concurrent writers queue instead of failing
        (on every machine sharing a database: :func:`.engine.write_transaction`)."""
        with write_transaction(self.db, self.engine) as db:
            yield db

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
                "INSERT INTO edition_items (edition_id, item_id, title, url) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
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
            "WHERE published_at IS NOT NULL AND id IS DISTINCT FROM ? "
            "ORDER BY published_at DESC LIMIT 1",
            (excluding,),
        ).fetchone()
        return _record(row) if row else None

    def published_keys(self, *, excluding: str | None = None) -> tuple[set[str], set[str]]:
        """Item ids and canonical URLs of every published edition except ``excluding``."""
        rows = self.db.execute(
            """SELECT ei.item_id, ei.url FROM edition_items ei
               JOIN editions e ON e.id = ei.edition_id
               WHERE e.published_at IS NOT NULL AND e.id IS DISTINCT FROM ?""",
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
