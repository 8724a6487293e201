"""The subscriber list, kept in the newsletter's state file.

A subscriber has a normalised address, a name, free-form attributes (extra CSV columns,
usable in templates) and a status:

``active``        receives editions
``pending``       signed up, has not confirmed yet (double opt-in)
``unsubscribed``  asked to stop
``bounced``       the receiving server refused the address for good
``complained``    reported an edition as spam

The last three *suppress* the address: no import or ``add`` makes it active again, only the
subscriber's own confirmed signup does. Erasing a subscriber (at their request) keeps a hash
of the address for the same reason, and nothing else.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from newsroom.core.errors import UsageError
from newsroom.store.engine import Connection
from newsroom.store.state import State

STATUSES = ("active", "pending", "unsubscribed", "bounced", "complained")
SUPPRESSING = frozenset({"unsubscribed", "bounced", "complained"})
#: Longest name kept; longer ones are cut (they go into headers and every message).
MAX_NAME = 200
_ATTRIBUTE_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
#: CSV columns that are not attributes (``export`` writes them).
_RESERVED = frozenset({"email", "name", "status", "created_at", "updated_at", "reason"})


class InvalidAddress(UsageError):
    """An email address that cannot be used."""


@dataclass(frozen=True)
class Subscriber:
    """One row of the list."""

    id: int
    email: str
    name: str
    status: str
    attributes: dict[str, str]
    uid: str
    """Random and stable: what signed links identify the subscriber by."""
    created_at: str
    updated_at: str
    reason: str = ""
    """Why the status last changed (a bounce message, "unsubscribe link", ...)."""


@dataclass
class ImportReport:
    """What an import did, row by row."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    suppressed: list[str] = field(default_factory=list)
    """Addresses that stay unsubscribed, bounced, complained or erased."""
    invalid: list[tuple[int, str]] = field(default_factory=list)
    """(line number, problem) for every row that was skipped."""
    duplicates: list[tuple[int, int, str]] = field(default_factory=list)
    """(line number, line of the first row, address) for every row whose address an earlier
    row of the same import had: skipped, so that one row never silently replaces another."""
    ignored_columns: list[str] = field(default_factory=list)
    """Header columns whose values were not kept, each with the reason."""

    @property
    def complete(self) -> bool:
        """Whether every row and every column was taken."""
        return not (self.invalid or self.duplicates or self.ignored_columns)


def normalize_address(raw: str) -> str:
    """The canonical form of an address (domain lowercased, IDN in Unicode), or
    :class:`InvalidAddress` saying what is wrong. No DNS lookups."""
    from email_validator import EmailNotValidError, validate_email

    text = raw.strip()
    if any(ch in text for ch in "\r\n\0"):
        raise InvalidAddress(f"{raw!r} is not a valid address: it contains a line break")
    try:
        result = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as exc:
        raise InvalidAddress(f"{text!r} is not a valid address: {exc}") from None
    return str(result.normalized)


def clean_name(name: str) -> str:
    """A display name safe for headers and bodies: no control characters, one line."""
    text = "".join(" " if (ord(c) < 32 or 0x7F <= ord(c) < 0xA0) else c for c in name)
    return " ".join(text.split())[:MAX_NAME]


#: Longest name taken from the public signup form (it goes into the To: header of mail).
MAX_SIGNUP_NAME = 64
_DOT = "[.\u3002\uff0e\uff61]"  # a full stop, and the ones IDNA reads as one
#: A word that mail programs would make a link of: a URL, an address, a domain name.
_LINKISH = re.compile(
    rf"[a-z][a-z0-9+.-]*://|^(?:mailto|tel|sms|data|javascript):|@|www{_DOT}"
    rf"|[^\W_]{_DOT}[^\W\d_]{{2,}}",
    re.IGNORECASE,
)


def signup_name(name: str) -> str:
    """A name typed into a public form, fit for a To: header: one line, at most
    :data:`MAX_SIGNUP_NAME` characters, and without the words that look like a URL, an email
    address or a domain name (a name field is a way to put a link into someone's mailbox)."""
    words = [word for word in clean_name(name).split() if not _LINKISH.search(word)]
    return " ".join(words)[:MAX_SIGNUP_NAME].strip()


def address_hash(email: str) -> str:
    return hashlib.sha256(email.casefold().encode("utf-8")).hexdigest()


#: A cell starting with one of these is a formula to a spreadsheet (names come from a
#: public signup form): it is exported with a leading apostrophe, which import removes.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA) else value


def _uncell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA) else value


def _attribute_key(name: str) -> str:
    key = name.strip().lower().replace(" ", "_")
    return key if key and set(key) <= _ATTRIBUTE_KEY_CHARS else ""


def ignored_columns(fields: list[str]) -> list[str]:
    """The header's columns an import cannot keep, each with the reason."""
    ignored, seen = [], set()
    for name in fields:
        if name in seen:
            ignored.append(f"{name!r} (a second column of that name; the last one is read)")
        seen.add(name)
        if name not in _RESERVED and not _attribute_key(name):
            ignored.append(
                f"{name!r} (not a usable attribute name: use a-z, 0-9, _ and -, e.g. company)"
            )
    return ignored


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


_COLUMNS = "id, email, name, status, attributes, uid, created_at, updated_at, reason"


def _row(row: tuple[Any, ...]) -> Subscriber:
    return Subscriber(
        id=row[0],
        email=row[1],
        name=row[2],
        status=row[3],
        attributes=json.loads(row[4]),
        uid=row[5],
        created_at=row[6],
        updated_at=row[7],
        reason=row[8],
    )


#: Rows an import looks up and inserts together.
_CHUNK = 1000


@dataclass(frozen=True)
class _Row:
    """One valid row of an import."""

    address: str
    name: str | None
    attributes: dict[str, str]
    status: str


def _parse_row(
    line: int,
    row: Mapping[Any, Any],
    status: str,
    report: ImportReport,
    first_line: dict[str, int],
) -> _Row | None:
    """The row's normalised address, name, attributes and status; None (and the problem in
    ``report``) when it cannot be imported. ``first_line``: the line of each address so
    far, so that a second row with one is skipped and named."""
    if None in row:  # csv.DictReader keeps the cells past the header under None
        cells = len(row) - 1 + len(row[None])
        report.invalid.append(
            (
                line,
                f"{cells} cells for a header of {len(row) - 1} columns (a value "
                'with a comma in it needs quotes: "Kim, Jiwoo")',
            )
        )
        return None
    raw = (row.get("email") or "").strip()
    if not raw:
        report.invalid.append((line, "no email address"))
        return None
    try:
        address = normalize_address(raw)
    except InvalidAddress as exc:
        report.invalid.append((line, exc.message))
        return None
    key = address.casefold()
    if key in first_line:
        report.duplicates.append((line, first_line[key], address))
        return None
    first_line[key] = line
    name = row.get("name")
    name = _uncell(name) if name is not None else None
    attributes = {
        key: _uncell((value or "").strip())
        for col, value in row.items()
        if col not in _RESERVED and (key := _attribute_key(col or ""))
    }
    # A `status` column (an export of another list) can only make it stricter: the
    # suppression list still wins over "active".
    row_status = (row.get("status") or "").strip().lower()
    if status not in STATUSES:
        raise UsageError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
    return _Row(address, name, attributes, row_status if row_status in STATUSES else status)


class Subscribers:
    """The subscriber list of one state file."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.db = state.db

    # -- reading ------------------------------------------------------------------------

    def get(self, email: str) -> Subscriber | None:
        try:
            address = normalize_address(email)
        except InvalidAddress:
            return None
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM subscribers WHERE email = ?", (address,)
        ).fetchone()
        return _row(row) if row else None

    def by_uid(self, uid: str) -> Subscriber | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM subscribers WHERE uid = ?", (uid,)
        ).fetchone()
        return _row(row) if row else None

    def by_id(self, sid: int) -> Subscriber | None:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM subscribers WHERE id = ?", (sid,)).fetchone()
        return _row(row) if row else None

    def iter(self, status: str | None = None) -> Iterator[Subscriber]:
        """Every subscriber (with ``status``), oldest first, streamed from the file."""
        if status is not None and status not in STATUSES:
            raise UsageError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
        sql = f"SELECT {_COLUMNS} FROM subscribers"
        args: tuple[Any, ...] = ()
        if status:
            sql += " WHERE status = ?"
            args = (status,)
        for row in self.db.execute(sql + " ORDER BY id", args):
            yield _row(row)

    def counts(self) -> dict[str, int]:
        found = dict(
            self.db.execute("SELECT status, COUNT(*) FROM subscribers GROUP BY status").fetchall()
        )
        return {s: int(found.get(s, 0)) for s in STATUSES}

    def is_suppressed(self, email: str) -> bool:
        """True when the address was erased at its owner's request."""
        row = self.db.execute(
            "SELECT 1 FROM suppressed WHERE email_hash = ?", (address_hash(email),)
        ).fetchone()
        return row is not None

    # -- writing ------------------------------------------------------------------------

    def add(
        self,
        email: str,
        name: str | None = None,
        attributes: dict[str, str] | None = None,
        *,
        status: str = "active",
    ) -> tuple[Subscriber | None, str]:
        """Add or update one subscriber; returns it and ``added``, ``updated``,
        ``unchanged`` or ``suppressed`` (the address may not be made active again)."""
        address = normalize_address(email)
        with self.state.transaction() as db:
            outcome = self._upsert(db, address, name, attributes or {}, status)
        return self.get(address), outcome

    def _upsert(
        self,
        db: Connection,
        address: str,
        name: str | None,
        attributes: dict[str, str],
        status: str,
    ) -> str:
        if status not in STATUSES:
            raise UsageError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
        now = _now()
        row = db.execute(
            "SELECT name, status, attributes FROM subscribers WHERE email = ?", (address,)
        ).fetchone()
        if row is None:
            if db.execute(
                "SELECT 1 FROM suppressed WHERE email_hash = ?", (address_hash(address),)
            ).fetchone():
                return "suppressed"
            db.execute(
                "INSERT INTO subscribers (email, name, status, attributes, uid, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    address,
                    clean_name(name or ""),
                    status,
                    json.dumps(attributes, ensure_ascii=False, sort_keys=True),
                    secrets.token_urlsafe(12),
                    now,
                    now,
                ),
            )
            return "added"
        old_name, old_status, old_attrs = row
        new_name = old_name if name is None else clean_name(name)
        merged = {**json.loads(old_attrs), **attributes}
        # The suppression list wins: an import never undoes an unsubscribe or a bounce.
        new_status = old_status if old_status in SUPPRESSING else status
        if old_status == "active" and status == "pending":
            new_status = "active"  # a repeated signup does not demote a confirmed subscriber
        changed = (new_name, new_status, merged) != (old_name, old_status, json.loads(old_attrs))
        if changed:
            db.execute(
                "UPDATE subscribers SET name = ?, status = ?, attributes = ?, updated_at = ? "
                "WHERE email = ?",
                (
                    new_name,
                    new_status,
                    json.dumps(merged, ensure_ascii=False, sort_keys=True),
                    now,
                    address,
                ),
            )
        if old_status in SUPPRESSING and status not in SUPPRESSING:
            return "suppressed"
        return "updated" if changed else "unchanged"

    def import_rows(
        self, rows: Iterable[tuple[int, Mapping[Any, Any]]], *, status: str = "active"
    ) -> ImportReport:
        """Import ``(line number, {column: value})`` rows in one transaction. A row with
        the address of an earlier row is skipped and reported (the first one counts).

        The rows go in chunks: the addresses of a chunk that are new (neither on the list
        nor erased, looked up for the whole chunk at once) are inserted together, and only
        the others are compared row by row. A database then takes a large list in a few
        statements per thousand rows instead of three per row."""
        report = ImportReport()
        first_line: dict[str, int] = {}
        with self.state.transaction() as db:
            chunk: list[_Row] = []
            for line, row in rows:
                parsed = _parse_row(line, row, status, report, first_line)
                if parsed is not None:
                    chunk.append(parsed)
                if len(chunk) >= _CHUNK:
                    self._import_chunk(db, chunk, report)
                    chunk = []
            if chunk:
                self._import_chunk(db, chunk, report)
        return report

    def _import_chunk(self, db: Connection, chunk: list[_Row], report: ImportReport) -> None:
        db.execute("SAVEPOINT import_chunk")
        outcomes = self._import_new_together(db, chunk)
        if outcomes is None:
            # The chunk's addresses compare in a way the bulk path does not mirror (case
            # beyond ASCII): row by row, exactly as the list compares them.
            db.execute("ROLLBACK TO SAVEPOINT import_chunk")
            outcomes = [self._upsert(db, r.address, r.name, r.attributes, r.status) for r in chunk]
        db.execute("RELEASE SAVEPOINT import_chunk")
        for r, outcome in zip(chunk, outcomes, strict=True):
            if outcome == "suppressed":
                report.suppressed.append(r.address)
            else:
                setattr(report, outcome, getattr(report, outcome) + 1)

    def _import_new_together(self, db: Connection, chunk: list[_Row]) -> list[str] | None:
        """The outcome of each row, with the new addresses inserted in one statement; None
        when the list's comparison of addresses and ``str.casefold`` disagree here."""
        marks = ", ".join("?" for _ in chunk)
        keys = {r.address.casefold() for r in chunk}
        known = {
            str(e).casefold()
            for (e,) in db.execute(
                f"SELECT email FROM subscribers WHERE email IN ({marks})",
                [r.address for r in chunk],
            )
        }
        if not known <= keys:
            return None
        erased = {
            h
            for (h,) in db.execute(
                f"SELECT email_hash FROM suppressed WHERE email_hash IN ({marks})",
                [address_hash(r.address) for r in chunk],
            )
        }
        outcomes: list[str] = []
        pending: list[tuple[Any, ...]] = []
        pending_keys: set[str] = set()

        def flush() -> bool:
            if pending:
                cur = db.executemany(
                    "INSERT INTO subscribers (email, name, status, attributes, uid, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    pending,
                )
                if cur.rowcount != len(pending):
                    return False
                pending.clear()
                known.update(pending_keys)
                pending_keys.clear()
            return True

        now = _now()
        for r in chunk:
            key = r.address.casefold()
            if key in known or key in pending_keys:
                if not flush():
                    return None
                outcomes.append(self._upsert(db, r.address, r.name, r.attributes, r.status))
            elif address_hash(r.address) in erased:
                outcomes.append("suppressed")
            else:
                pending.append(
                    (
                        r.address,
                        clean_name(r.name or ""),
                        r.status,
                        json.dumps(r.attributes, ensure_ascii=False, sort_keys=True),
                        secrets.token_urlsafe(12),
                        now,
                        now,
                    )
                )
                pending_keys.add(key)
                outcomes.append("added")
        return outcomes if flush() else None

    def import_csv(self, source: Path | TextIO, *, status: str = "active") -> ImportReport:
        """Import a CSV file with a header row; ``email`` is required, ``name`` optional,
        every other column becomes an attribute. Invalid rows are reported and skipped.

        A file is read as it is imported (a list of a million rows is not held in memory);
        a byte that is not UTF-8 anywhere in it stops the import with nothing imported."""
        if isinstance(source, Path):
            try:
                with source.open(encoding="utf-8-sig", newline="") as handle:
                    return self._import_handle(handle, str(source), status)
            except OSError as exc:
                raise UsageError(f"{source}: cannot read the file: {exc}") from None
        return self._import_handle(source, "<stdin>", status)

    def _import_handle(self, handle: TextIO, label: str, status: str) -> ImportReport:
        try:
            reader = csv.DictReader(handle)
            fields = [f.strip().lower() for f in (reader.fieldnames or [])]
        except csv.Error as exc:
            raise UsageError(f"{label}: not a CSV file: {exc}") from None
        except UnicodeDecodeError as exc:
            raise UsageError(f"{label}: cannot read the file: {exc}") from None
        if "email" not in fields:
            raise UsageError(
                f"{label}: the header row needs an `email` column (found: {', '.join(fields)})"
            )
        reader.fieldnames = fields
        ignored = ignored_columns(fields)

        def rows() -> Iterator[tuple[int, Mapping[Any, Any]]]:
            try:
                for row in reader:
                    yield reader.line_num, row
            except csv.Error as exc:
                raise UsageError(f"{label}:{reader.line_num}: {exc}") from None
            except UnicodeDecodeError as exc:
                raise UsageError(f"{label}: cannot read the file: {exc}") from None

        report = self.import_rows(rows(), status=status)
        report.ignored_columns = ignored
        return report

    def export_csv(self, out: TextIO, *, status: str | None = None) -> int:
        """Write the list as CSV (email, name, status, then every attribute); return the
        number of rows."""
        subscribers = list(self.iter(status))
        keys = sorted({k for s in subscribers for k in s.attributes})
        writer = csv.writer(out)
        writer.writerow(["email", "name", "status", *keys, "created_at"])
        for s in subscribers:
            writer.writerow(
                [
                    s.email,
                    _cell(s.name),
                    s.status,
                    *(_cell(s.attributes.get(k, "")) for k in keys),
                    s.created_at,
                ]
            )
        return len(subscribers)

    def set_status(self, sid: int, status: str, reason: str = "") -> bool:
        """Change a subscriber's status; returns False when there is no such subscriber."""
        if status not in STATUSES:
            raise UsageError(f"unknown status {status!r}")
        with self.state.transaction() as db:
            cur = db.execute(
                "UPDATE subscribers SET status = ?, reason = ?, updated_at = ? WHERE id = ?",
                (status, reason[:500], _now(), sid),
            )
            return cur.rowcount > 0

    def remove(self, email: str) -> bool:
        """Delete a subscriber and their delivery rows. A suppressed address is remembered
        (as a hash) so that it is never imported again."""
        sub = self.get(email)
        if sub is None:
            return False
        self._delete(sub, remember=sub.status in SUPPRESSING)
        self.state.wipe_log()
        return True

    def erase(self, sub: Subscriber) -> bool:
        """Forget a subscriber at their request: delete everything, keep only a hash of the
        address so that no later import mails them again. The rows are overwritten in the
        file and the write-ahead log is emptied; False when a reader kept the log from
        being emptied (the old rows stay there until the next erasure or service start)."""
        self._delete(sub, remember=True, status="erased")
        return self.state.wipe_log()

    def _delete(self, sub: Subscriber, *, remember: bool, status: str | None = None) -> None:
        with self.state.transaction() as db:
            db.execute("DELETE FROM subscribers WHERE id = ?", (sub.id,))
            if remember:
                db.execute(
                    "INSERT INTO suppressed (email_hash, status, at) VALUES (?, ?, ?) "
                    "ON CONFLICT (email_hash) DO UPDATE SET status = excluded.status, "
                    "at = excluded.at",
                    (address_hash(sub.email), status or sub.status, _now()),
                )

    def confirm(self, sub: Subscriber, reason: str = "confirmed") -> bool:
        """The subscriber confirmed their own signup: active, even if suppressed before.

        ``sub`` may have been read a moment ago: when the subscriber was erased since, this
        changes nothing (the erasure stays) and returns False."""
        with self.state.transaction() as db:
            cur = db.execute(
                "UPDATE subscribers SET status = 'active', reason = ?, updated_at = ? WHERE id = ?",
                (reason, _now(), sub.id),
            )
            if cur.rowcount == 0:
                return False
            db.execute("DELETE FROM signups WHERE subscriber_id = ?", (sub.id,))
            return True

    def resubscribe(self, sub: Subscriber, reason: str = "preferences page") -> bool:
        """An unsubscribed reader subscribes again from their own preferences page. Only
        ``unsubscribed`` changes: a bounce, a complaint or an erasure that came in after
        ``sub`` was read stays. False when nothing changed."""
        with self.state.transaction() as db:
            cur = db.execute(
                "UPDATE subscribers SET status = 'active', reason = ?, updated_at = ? "
                "WHERE id = ? AND status = 'unsubscribed'",
                (reason, _now(), sub.id),
            )
            return cur.rowcount > 0

    def confirm_address(self, email: str, name: str = "") -> Subscriber | None:
        """The owner of an erased address confirmed a new signup (a link sent to it): add
        it again, active, and forget its suppression."""
        address = normalize_address(email)
        with self.state.transaction() as db:
            db.execute("DELETE FROM suppressed WHERE email_hash = ?", (address_hash(address),))
            self._upsert(db, address, name or None, {}, "pending")
            db.execute(
                "UPDATE subscribers SET status = 'active', reason = 'confirmed', updated_at = ? "
                "WHERE email = ?",
                (_now(), address),
            )
        return self.get(address)


def subscriber_data(sub: Subscriber, state: State) -> dict[str, Any]:
    """Everything stored about one subscriber, for their own data export."""
    deliveries = state.db.execute(
        "SELECT edition_id, status, updated_at FROM deliveries WHERE subscriber_id = ? "
        "ORDER BY updated_at",
        (sub.id,),
    ).fetchall()
    return {
        "email": sub.email,
        "name": sub.name,
        "status": sub.status,
        "attributes": sub.attributes,
        "created_at": sub.created_at,
        "updated_at": sub.updated_at,
        "deliveries": [{"edition": d[0], "status": d[1], "at": d[2]} for d in deliveries],
    }
