"""The two engines the state can live in: an SQLite file (the default) and a PostgreSQL
database (``[state] url = "postgresql://..."``), behind one connection interface.

Every statement newsroom runs is written once, in the SQL both engines read: ``?``
parameters, ``INSERT ... ON CONFLICT``, ``IS DISTINCT FROM``. :class:`PostgresConnection`
turns the parameters into psycopg's ``%s`` and is otherwise the same to its callers as an
``sqlite3.Connection``: ``execute`` returns a cursor with ``fetchone``, ``fetchall``,
``rowcount`` and iteration. Where the engines differ in more than spelling (how a writer
takes its turn, how rows are claimed by one of several senders), the difference is a
property of the :class:`Engine` here, never a test of the engine's name in the callers.

psycopg 3 is the driver: maintained by the PostgreSQL community's long-standing driver
authors, synchronous and asynchronous alike (the send engine runs an event loop, the
service a thread pool), binary packages for Linux, and the pool of ``psycopg_pool``.
"""

from __future__ import annotations

import functools
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from newsroom.core.errors import StateError

#: Where the PostgreSQL password comes from when ``[state] password`` does not say.
PASSWORD_ENV = "NEWSROOM_STATE_PASSWORD"
#: Every writer of the state takes this advisory lock first (see PostgresConnection).
_WRITER_LOCK = 0x6E657773  # "news"


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What the state's code uses of a connection: ``sqlite3.Connection`` is one."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor: ...

    def close(self) -> None: ...


def is_url(target: Path | str) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def safe_url(url: str) -> str:
    """``url`` without a password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


@dataclass(frozen=True)
class Target:
    """Where the state is: an SQLite file or a PostgreSQL URL (without its password), and
    the password. Picklable and safe to hand to a forked process, which opens its own
    connection with :meth:`connect`."""

    location: Path | str
    password: str | None = None

    @property
    def engine(self) -> Engine:
        return POSTGRESQL if is_url(self.location) else SQLITE

    @property
    def label(self) -> str:
        """What messages call it (never with a password)."""
        if isinstance(self.location, Path):
            return str(self.location)
        return safe_url(self.location)

    def connect(self, *, wait: float = 30.0) -> Connection:
        """A new connection, in autocommit mode (transactions are begun explicitly).
        ``wait``: how long an SQLite statement waits for another writer (0: not at all)."""
        if isinstance(self.location, Path):
            try:
                self.location.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.location, timeout=wait, isolation_level=None)
                db.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
                db.execute("PRAGMA foreign_keys=ON")
                db.execute("PRAGMA synchronous=NORMAL")
                return db
            except sqlite3.DatabaseError as exc:
                raise StateError(f"{self.label}: cannot open the state file: {exc}") from exc
        return PostgresConnection.open(self.location, self.password)


@dataclass(frozen=True)
class Engine:
    """What differs between the engines beyond the spelling of a statement."""

    name: str
    skip_locked: str
    """Appended to a ``SELECT`` that claims rows for one sender: rows another
    transaction holds are passed over instead of waited for (SQLite has one writer at a
    time, so there is nothing to pass over)."""
    row_locking: bool
    """Concurrent writers each lock their rows (PostgreSQL); else one writer at a time."""
    after_copy: str
    """Run after rows were copied in with their ids: new rows get ids after them."""


SQLITE = Engine("sqlite", "", False, "")
POSTGRESQL = Engine(
    "postgresql",
    " FOR UPDATE SKIP LOCKED",
    True,
    "SELECT setval(pg_get_serial_sequence('subscribers', 'id'), COALESCE(MAX(id), 0) + 1, "
    "false) FROM subscribers",
)


@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """``?`` parameters as psycopg's ``%s`` (and a literal ``%`` doubled). No statement of
    newsroom has a ``?`` or ``%`` inside a string literal."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresConnection:
    """A psycopg connection that reads newsroom's statements as an ``sqlite3.Connection``
    does: autocommit unless a transaction is begun, ``?`` parameters."""

    def __init__(self, conn: Any, label: str) -> None:
        self.conn = conn
        self.label = label

    @classmethod
    def open(cls, url: str, password: str | None) -> PostgresConnection:
        try:
            import psycopg
        except ImportError:
            raise StateError(
                "[state] url names a PostgreSQL database, and psycopg is not installed: "
                "pip install 'newsroom-digest[postgres]'"
            ) from None
        if urlsplit(url).password is not None:
            raise StateError(
                f"[state] url {safe_url(url)} carries a password: give it in the environment "
                f'({PASSWORD_ENV}) or [state] password = {{ "$env" = ... }} instead'
            )
        password = password if password is not None else os.environ.get(PASSWORD_ENV)
        kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": 10}
        if password:
            kwargs["password"] = password
        try:
            conn = psycopg.connect(url, **kwargs)
        except psycopg.Error as exc:
            # libpq's message names the host and the reason, never the password.
            raise StateError(f"{safe_url(url)}: cannot connect: {exc}".strip()) from None
        return cls(conn, safe_url(url))

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Cursor:
        cursor: Cursor = self.conn.execute(_pg_sql(sql), tuple(parameters) or None)
        return cursor

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor:
        cur: Any = self.conn.cursor()
        cur.executemany(_pg_sql(sql), [tuple(p) for p in parameters])
        cursor: Cursor = cur
        return cursor

    def commit_together(self, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[int]:
        """Run ``statements`` in one transaction, sent to the server together (psycopg's
        pipeline: one round trip instead of one per statement); their row counts."""
        cursors = []
        try:
            with self.conn.pipeline():
                self.conn.execute("BEGIN")
                cursors = [
                    self.conn.execute(_pg_sql(sql), tuple(a) or None) for sql, a in statements
                ]
                self.conn.execute("COMMIT")
        except BaseException:
            if not self.conn.closed and self.conn.info.transaction_status != 0:  # not idle
                self.conn.execute("ROLLBACK")
            raise
        return [int(c.rowcount) for c in cursors]

    def close(self) -> None:
        self.conn.close()


@contextmanager
def write_transaction(db: Connection, engine: Engine) -> Iterator[Connection]:
    """A transaction that writers take in turn, as SQLite's ``BEGIN IMMEDIATE`` makes
    them: a read inside it sees what every earlier writer committed, and no other writer
    commits until it ends (so read-then-write never loses an update). On PostgreSQL, the
    turn is a transaction-level advisory lock, held by one writer of the database at a
    time, in whichever process or machine."""
    if engine.row_locking:
        db.execute("BEGIN")
        try:
            db.execute(f"SELECT pg_advisory_xact_lock({_WRITER_LOCK})")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    else:
        db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    else:
        db.execute("COMMIT")


def commit_at_once(
    db: Connection, statements: Sequence[tuple[str, Sequence[Any]]]
) -> list[int] | None:
    """Commit ``statements`` in one transaction sent in one go, and return their row
    counts, where the engine locks rows one by one (PostgreSQL: nothing to wait for
    first); None where a writer must first wait for its turn (SQLite)."""
    if isinstance(db, PostgresConnection):
        return db.commit_together(statements)
    return None


def row_transaction_begin(db: Connection, engine: Engine) -> bool:
    """Begin a transaction whose statements lock only the rows they change (the send's
    per-message marks); False when SQLite's single writer is busy (try again later)."""
    if engine.row_locking:
        db.execute("BEGIN")
        return True
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return False
        raise
    return True
