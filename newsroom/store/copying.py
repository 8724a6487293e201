"""Copying a state from one engine to the other (``newsroom state copy``): an SQLite file
into an empty PostgreSQL database, or back.

Every table is copied row for row, ids included, in one transaction on the target, then
each table is compared on both sides by its number of rows and a SHA-256 of its rows in key
order. A target that already holds exactly the source's rows is reported as copied (a
re-run after a copy that was interrupted, or that succeeded, changes nothing); a target
that holds anything else is refused, never merged into.

The locks are not copied: they belong to the processes of the source's machine.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from newsroom.core.errors import StateError
from newsroom.store.engine import Connection
from newsroom.store.state import State

#: The tables, parents before children, with the columns that order their rows.
TABLES: list[tuple[str, str]] = [
    ("editions", "id"),
    ("edition_items", "edition_id, item_id"),
    ("subscribers", "id"),
    ("suppressed", "email_hash"),
    ("sends", "edition_id"),
    ("deliveries", "edition_id, subscriber_id"),
    ("llm_cache", "key"),
    ("approvals", "edition_id"),
    ("signups", "nonce_hash"),
    ("confirmation_mails", "email_hash"),
]
_BATCH = 5000


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    """Rows in each table (the same on both sides)."""
    checksums: dict[str, str] = field(default_factory=dict)
    already: bool = False
    """The target held the very same rows already: nothing was written."""


def _columns(db: Connection, table: str) -> list[str]:
    cur: Any = db.execute(f"SELECT * FROM {table} WHERE 1 = 0")
    return [d[0] for d in cur.description]


def table_digest(db: Connection, table: str, order: str, columns: list[str]) -> tuple[int, str]:
    """The number of rows of ``table`` and a SHA-256 of them in ``order``."""
    digest = hashlib.sha256()
    count = 0
    for row in db.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"):
        digest.update(json.dumps(list(row), default=str).encode("utf-8") + b"\n")
        count += 1
    return count, digest.hexdigest()


def _digests(state: State, columns: dict[str, list[str]]) -> dict[str, tuple[int, str]]:
    return {t: table_digest(state.db, t, order, columns[t]) for t, order in TABLES}


def copy_state(source: State, target: State) -> CopyReport:
    """Copy every table of ``source`` into ``target`` (empty, or already the same) and
    verify the copy; :class:`StateError` saying which table differs otherwise."""
    if source.version != target.version:
        raise StateError(
            f"{source.label} has schema {source.version} and {target.label} "
            f"{target.version}: open both with this newsroom first (newsroom state migrate)"
        )
    columns = {t: _columns(source.db, t) for t, _ in TABLES}
    wanted = _digests(source, columns)
    report = CopyReport(
        rows={t: n for t, (n, _) in wanted.items()},
        checksums={t: d for t, (_, d) in wanted.items()},
    )
    present = _digests(target, columns)
    if present == wanted:
        report.already = True
        return report
    filled = [t for t, (n, _) in present.items() if n]
    if filled:
        raise StateError(
            f"{target.label} is not empty ({', '.join(filled)} hold rows) and differs from "
            f"{source.label}: copy only into an empty state"
        )
    with target.transaction() as db:
        for table, order in TABLES:
            names = columns[table]
            insert = (
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
            )
            rows = source.db.execute(f"SELECT {', '.join(names)} FROM {table} ORDER BY {order}")
            batch: list[Any] = []
            for row in rows:
                batch.append(tuple(row))
                if len(batch) >= _BATCH:
                    db.executemany(insert, batch)
                    batch = []
            if batch:
                db.executemany(insert, batch)
        if target.engine.after_copy:
            # New subscribers get ids after the copied ones.
            db.execute(target.engine.after_copy)
    copied = _digests(target, columns)
    for table, _ in TABLES:
        if copied[table] != wanted[table]:
            raise StateError(
                f"{table}: the copy in {target.label} differs from {source.label} "
                f"({copied[table][0]} rows against {wanted[table][0]})"
            )
    return report
