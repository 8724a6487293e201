"""The SQL of a send, in one place: the ``deliveries`` rows a send creates, requeues and
counts (:func:`prepare`, :func:`remaining`, :func:`sent_in_last_hour`,
:func:`mark_complete`, :func:`finished_subscribers`), and, in
:class:`DeliveryLog`, what a worker reads and writes while it sends: the batches of queued
messages, each message's ``sending`` mark and its outcome, committed in one transaction at a
time with a wait (that never blocks the event loop) while another process writes.

Apart so that the statements the exactly-once guarantees rest on, and the transactions
they are committed in, are in one place and not spread through the engine: the engine gets
its statements from here and hands them back to be committed together; it writes no SQL of
its own. The statements are the same for an SQLite file and a PostgreSQL database
(:mod:`newsroom.store.engine`).

Several senders may share a send (``newsroom send --join``, on other machines): each takes
queued rows into its own queue a batch at a time, marking them with the name of its lease
(``claimed_by``); another sender passes over a row claimed under a live lease (and, on
PostgreSQL, over a row another sender is claiming at that instant: ``SKIP LOCKED``). A row
is marked ``sending`` only by the sender that claimed it, so no two senders send it. When
a sender dies, its lease ends (at once on its own machine, after ``[state] lease`` seconds
on another): the others take its queued rows, and send again the rows it left ``sending``,
as a resumed send does.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from newsroom.deliver.sending.report import SendError
from newsroom.store.engine import Connection, Target, commit_at_once, row_transaction_begin
from newsroom.store.locks import STALE_AFTER, reap
from newsroom.store.state import State

#: A row is free to claim when no live run holds the name it was claimed under ('' never).
_FREE = "claimed_by NOT IN (SELECT name FROM locks)"

Statement = tuple[str, tuple[Any, ...]]
"""One statement for the log and its parameters; a worker commits several in one
transaction (a message's outcome with the next message's ``sending`` mark)."""


@dataclass
class Prepared:
    queued: int
    already_sent: int
    resumed: int
    new: bool
    uncertain: int = 0
    """Messages whose delivery is uncertain (left alone, unless they were requeued)."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def prepare(
    state: State,
    edition_id: str,
    content_hash: str,
    *,
    accept_new_version: bool,
    resend_uncertain: bool = False,
    lock_name: str = "",
    lease: float = STALE_AFTER,
) -> Prepared:
    """Create the edition's delivery rows on its first send; on later ones, put interrupted
    (``sending``) and ``failed`` rows back in the queue, and ``uncertain`` ones when
    ``resend_uncertain`` says so. Rows of a sender that still lives (another machine
    sharing the send under the lock ``lock_name``) are left to it."""
    with state.transaction() as db:
        if lock_name:
            reap(db, lock_name, lease)
        row = db.execute(
            "SELECT content_hash FROM sends WHERE edition_id = ?", (edition_id,)
        ).fetchone()
        new = row is None
        if new:
            db.execute(
                "INSERT INTO sends (edition_id, content_hash, created_at) VALUES (?, ?, ?)",
                (edition_id, content_hash, _now()),
            )
            db.execute(
                "INSERT INTO deliveries (edition_id, subscriber_id, status, updated_at) "
                "SELECT ?, id, 'queued', ? FROM subscribers WHERE status = 'active'",
                (edition_id, _now()),
            )
        elif row[0] != content_hash and _unfinished(db, edition_id):
            sent = db.execute(
                "SELECT COUNT(*) FROM deliveries WHERE edition_id = ? AND status = 'sent'",
                (edition_id,),
            ).fetchone()[0]
            if sent and not accept_new_version:
                raise SendError(
                    f"edition {edition_id!r} was rendered again after its send began: {sent} "
                    "subscriber(s) received the earlier version. To send the new version to "
                    "the rest, run again with --accept-new-version"
                )
            db.execute(
                "UPDATE sends SET content_hash = ? WHERE edition_id = ?", (content_hash, edition_id)
            )
        resumed = db.execute(
            "UPDATE deliveries SET status = 'queued', updated_at = ? "
            f"WHERE edition_id = ? AND status = 'sending' AND {_FREE}",
            (_now(), edition_id),
        ).rowcount
        db.execute(
            "UPDATE deliveries SET status = 'queued', attempts = 0, updated_at = ? "
            f"WHERE edition_id = ? AND status = 'failed' AND {_FREE}",
            (_now(), edition_id),
        )
        if resend_uncertain:
            db.execute(
                "UPDATE deliveries SET status = 'queued', attempts = 0, updated_at = ? "
                f"WHERE edition_id = ? AND status = 'uncertain' AND {_FREE}",
                (_now(), edition_id),
            )
        counts = dict(
            db.execute(
                "SELECT status, COUNT(*) FROM deliveries WHERE edition_id = ? GROUP BY status",
                (edition_id,),
            ).fetchall()
        )
    return Prepared(
        counts.get("queued", 0), counts.get("sent", 0), resumed, new, counts.get("uncertain", 0)
    )


def _unfinished(db: Connection, edition_id: str) -> bool:
    """True when some of the edition's messages are still to send."""
    return (
        db.execute(
            "SELECT 1 FROM deliveries WHERE edition_id = ? "
            "AND status IN ('queued', 'sending', 'failed') LIMIT 1",
            (edition_id,),
        ).fetchone()
        is not None
    )


def remaining(state: State, edition_id: str) -> int:
    return int(
        state.db.execute(
            "SELECT COUNT(*) FROM deliveries WHERE edition_id = ? "
            "AND status IN ('queued', 'sending', 'failed')",
            (edition_id,),
        ).fetchone()[0]
    )


def left_to_others(state: State, edition_id: str, claim: str) -> tuple[int, int]:
    """Messages still to send (as :func:`remaining`), and of them those that another live
    sender of a shared send holds, counted at one instant."""
    total, others = state.db.execute(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status IN ('queued', 'sending') "
        "AND claimed_by <> ? AND claimed_by IN (SELECT name FROM locks) THEN 1 ELSE 0 END), 0) "
        "FROM deliveries WHERE edition_id = ? AND status IN ('queued', 'sending', 'failed')",
        (claim, edition_id),
    ).fetchone()
    return int(total), int(others)


def sent_in_last_hour(state: State) -> list[float]:
    """When each message of the last hour went out (for ``hourly_limit``)."""
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    rows = state.db.execute(
        "SELECT updated_at FROM deliveries WHERE status = 'sent' AND updated_at > ?", (since,)
    ).fetchall()
    return sorted(dt.datetime.fromisoformat(r[0]).timestamp() for r in rows)


def mark_complete(state: State, edition_id: str) -> None:
    """Record that every message of the edition went out (the first time only)."""
    with state.transaction() as db:
        db.execute(
            "UPDATE sends SET completed_at = COALESCE(completed_at, ?) WHERE edition_id = ?",
            (dt.datetime.now(dt.UTC).isoformat(), edition_id),
        )


def finished_subscribers(state: State, edition_id: str) -> set[int]:
    """Subscribers a send leaves out: sent, bounced, skipped or uncertain (``--dry-run``)."""
    return {
        r[0]
        for r in state.db.execute(
            "SELECT subscriber_id FROM deliveries WHERE edition_id = ? "
            "AND status IN ('sent', 'bounced', 'skipped', 'uncertain')",
            (edition_id,),
        )
    }


def editions_sent_to(state: State, subscriber_id: int) -> list[str]:
    """The editions a message went to the subscriber for (or may have: ``sending``,
    ``uncertain``), for matching a bounce to a message newsroom sent."""
    rows = state.db.execute(
        "SELECT edition_id FROM deliveries WHERE subscriber_id = ? "
        "AND status IN ('sent', 'sending', 'uncertain')",
        (subscriber_id,),
    ).fetchall()
    return [row[0] for row in rows]


class DeliveryLog:
    """One worker's connection to the delivery log of ``edition_id``, claiming rows under
    ``claim`` (the run's lease: :attr:`newsroom.store.locks.Lock.claim_name`).

    Opened by :meth:`open` in the process that sends (a connection never crosses a fork).
    The ``mark`` methods build statements; :meth:`write` commits a list of them together.
    """

    def __init__(
        self,
        target: Target,
        edition_id: str,
        claim: str = "",
        *,
        lock_name: str = "",
        lease: float = STALE_AFTER,
    ) -> None:
        self.target = target
        self.engine = target.engine
        self.edition_id = edition_id
        self.claim = claim
        self.lock_name = lock_name
        self.lease = lease
        self.db: Connection | None = None

    def open(self) -> None:
        # No busy timeout: a locked file is waited for in write(), without blocking the
        # event loop that carries the other connections.
        self.db = self.target.connect(wait=0)

    def close(self) -> None:
        assert self.db is not None
        self.db.close()

    async def _begin(self) -> None:
        assert self.db is not None
        delay = 0.0005
        deadline = time.monotonic() + 60
        while not row_transaction_begin(self.db, self.engine):
            if time.monotonic() > deadline:
                raise SendError(f"{self.target.label} stayed locked for a minute")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.02)

    async def write(self, statements: list[Statement]) -> list[int]:
        """Commit ``statements`` in one transaction and return their row counts; wait
        (without blocking the other connections) while another process writes."""
        assert self.db is not None
        at_once = commit_at_once(self.db, statements)
        if at_once is not None:
            return at_once
        await self._begin()
        try:
            counts = [self.db.execute(sql, args).rowcount for sql, args in statements]
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return counts

    async def claim_batch(self, parts: int, part: int, size: int) -> list[Any]:
        """Take up to ``size`` queued messages of subscribers ``id % parts == part`` that
        no live sender has taken, in id order, into this run's queue: (id, email, name,
        uid, attributes, attempts). Rows a dead sender had taken (and left ``sending``) are
        put back in the queue first, once its lease has ended."""
        assert self.db is not None
        await self._begin()
        try:
            if self.lock_name:
                reap(self.db, self.lock_name, self.lease)
            self.db.execute(
                "UPDATE deliveries SET status = 'queued', updated_at = ? "
                f"WHERE edition_id = ? AND status = 'sending' AND {_FREE}",
                (_now(), self.edition_id),
            )
            taken = self.db.execute(
                "UPDATE deliveries SET claimed_by = ? WHERE edition_id = ? AND subscriber_id IN "
                "(SELECT subscriber_id FROM deliveries WHERE edition_id = ? "
                f"AND status = 'queued' AND {_FREE} AND subscriber_id % ? = ? "
                f"ORDER BY subscriber_id LIMIT ?{self.engine.skip_locked}) "
                "RETURNING subscriber_id",
                (self.claim, self.edition_id, self.edition_id, parts, part, size),
            ).fetchall()
            ids = sorted(r[0] for r in taken)
            rows = []
            if ids:
                rows = self.db.execute(
                    "SELECT d.subscriber_id, s.email, s.name, s.uid, s.attributes, d.attempts "
                    "FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id "
                    "WHERE d.edition_id = ? AND d.claimed_by = ? AND d.status = 'queued' "
                    "AND d.subscriber_id BETWEEN ? AND ? AND d.subscriber_id % ? = ? "
                    "ORDER BY d.subscriber_id",
                    (self.edition_id, self.claim, ids[0], ids[-1], parts, part),
                ).fetchall()
                wanted = set(ids)
                rows = [r for r in rows if r[0] in wanted]
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return rows

    def mark_sending(self, sid: int, now: str) -> Statement:
        """In flight: only a queued message this run claimed, of a subscriber still active
        (row count 0 else)."""
        return (
            "UPDATE deliveries SET status = 'sending', updated_at = ? "
            "WHERE edition_id = ? AND subscriber_id = ? AND status = 'queued' "
            "AND claimed_by = ? "
            "AND EXISTS (SELECT 1 FROM subscribers WHERE id = ? AND status = 'active')",
            (now, self.edition_id, sid, self.claim, sid),
        )

    def mark_skipped(self, sid: int, now: str) -> Statement:
        """A queued message whose subscriber left during the send (row count 0: the message
        is no longer this run's)."""
        return (
            "UPDATE deliveries SET status = 'skipped', updated_at = ? "
            "WHERE edition_id = ? AND subscriber_id = ? AND status = 'queued' "
            "AND claimed_by = ?",
            (now, self.edition_id, sid, self.claim),
        )

    def mark(
        self, sid: int, attempts: int, status: str, error: str = "", subscriber: str = ""
    ) -> list[Statement]:
        """The outcome of an attempt; ``subscriber``, when given, is the subscriber's new
        status (``bounced``), set only while they are active."""
        statements: list[Statement] = [
            (
                "UPDATE deliveries SET status = ?, attempts = ?, error = ?, updated_at = ? "
                "WHERE edition_id = ? AND subscriber_id = ?",
                (status, attempts, error[:500], _now(), self.edition_id, sid),
            )
        ]
        if subscriber:
            statements.append(
                (
                    "UPDATE subscribers SET status = ?, reason = ?, updated_at = ? WHERE id = ? "
                    "AND status = 'active'",
                    (subscriber, error[:500], _now(), sid),
                )
            )
        return statements
