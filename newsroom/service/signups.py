"""Signups waiting for their confirmation, and the confirmation emails each address got.

A confirmation link carries a random nonce (signed:
:meth:`newsroom.deliver.tokens.Signer.signup_token`). The state file keeps only the nonce's
SHA-256 hash, the subscriber it belongs to and when it expires. Using it makes that
subscriber active and ends every link of the signup, so a link works once. A link also ends
when it expires, when its subscriber unsubscribes, bounces or complains (a trigger in the
state file, whatever writes the status), and when the subscriber is erased (the row goes
with them). A pending subscriber that a signup added is forgotten when the signup expires
unconfirmed.

No confirmation email goes to a bounced, complained or erased address, and an address gets
at most one per cooldown and a few a day: the signup form must not be a way to mail someone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass

from newsroom.deliver.subscribers import Subscriber, Subscribers, address_hash
from newsroom.store.state import State

DAY = 86_400.0
#: Statuses that never get a confirmation email: the address refused mail, its owner
#: reported it as spam, or asked to be forgotten (erased addresses have no row at all).
NO_MAIL = frozenset({"bounced", "complained"})


def _stamp(when: float) -> str:
    return dt.datetime.fromtimestamp(when, dt.UTC).isoformat(timespec="seconds")


def nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class MailRules:
    """How often one address may get a confirmation email, and how long its link lives."""

    cooldown: float
    """Seconds after a confirmation email before the next one."""
    daily_limit: int
    """Emails per 24 hours (counted from the first)."""
    lifetime: float
    """Seconds a link stays valid."""


@dataclass(frozen=True)
class Signup:
    """A signup that is to be confirmed by email: the link's nonce and what to undo when the
    email cannot be sent."""

    nonce: str
    subscriber_id: int
    email_hash: str
    previous: tuple[float, float, int] | None
    """The address's email count before this one: (first_at, last_at, count)."""


class Signups:
    """The pending signups of one state file."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.subscribers = Subscribers(state)

    def request(
        self, address: str, name: str, *, double_opt_in: bool, rules: MailRules, now: float
    ) -> Signup | None:
        """Record a signup of ``address`` (normalised); the :class:`Signup` whose link is to
        be emailed, or None when no email goes out: the address is bounced, complained or
        erased, got one less than the cooldown ago or its daily number already, or needs
        none (single opt-in). An address already on the list keeps its name and status."""
        with self.state.transaction() as db:
            row = db.execute(
                "SELECT id, status FROM subscribers WHERE email = ?", (address,)
            ).fetchone()
            email_hash = address_hash(address)
            if row is None:
                if db.execute(
                    "SELECT 1 FROM suppressed WHERE email_hash = ?", (email_hash,)
                ).fetchone():
                    return None  # erased at its owner's request
                if not double_opt_in:
                    self.subscribers._upsert(db, address, name, {}, "active")
                    return None
            elif row[1] in NO_MAIL or (row[1] == "active" and not double_opt_in):
                return None
            previous = db.execute(
                "SELECT first_at, last_at, count FROM confirmation_mails WHERE email_hash = ?",
                (email_hash,),
            ).fetchone()
            if previous is not None:
                first_at, last_at, count = previous
                if now - last_at < rules.cooldown:
                    return None
                if now - first_at < DAY and count >= rules.daily_limit:
                    return None
            if row is None:
                self.subscribers._upsert(db, address, name, {}, "pending")
                subscriber_id = db.execute(
                    "SELECT id FROM subscribers WHERE email = ?", (address,)
                ).fetchone()[0]
            else:
                subscriber_id = row[0]
            nonce = secrets.token_urlsafe(24)
            db.execute(
                "INSERT INTO signups (nonce_hash, subscriber_id, added_row, created_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?)",
                (nonce_hash(nonce), subscriber_id, int(row is None), now, now + rules.lifetime),
            )
            if previous is None or now - previous[0] >= DAY:
                counts = (now, now, 1)
            else:
                counts = (previous[0], now, previous[2] + 1)
            db.execute(
                "INSERT INTO confirmation_mails (email_hash, first_at, last_at, count) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (email_hash) DO UPDATE SET "
                "first_at = excluded.first_at, last_at = excluded.last_at, count = excluded.count",
                (email_hash, *counts),
            )
        return Signup(nonce, subscriber_id, email_hash, previous)

    def cancel(self, signup: Signup) -> None:
        """The email of ``signup`` could not be sent: forget its link, give the address its
        email back, and the subscriber row too when this signup added it."""
        with self.state.transaction() as db:
            added = db.execute(
                "SELECT added_row FROM signups WHERE nonce_hash = ?", (nonce_hash(signup.nonce),)
            ).fetchone()
            db.execute("DELETE FROM signups WHERE nonce_hash = ?", (nonce_hash(signup.nonce),))
            if added and added[0]:
                db.execute(
                    "DELETE FROM subscribers WHERE id = ? AND status = 'pending' AND NOT EXISTS "
                    "(SELECT 1 FROM signups WHERE subscriber_id = ?)",
                    (signup.subscriber_id, signup.subscriber_id),
                )
            if signup.previous is None:
                db.execute(
                    "DELETE FROM confirmation_mails WHERE email_hash = ?", (signup.email_hash,)
                )
            else:
                db.execute(
                    "UPDATE confirmation_mails SET first_at = ?, last_at = ?, count = ? "
                    "WHERE email_hash = ?",
                    (*signup.previous, signup.email_hash),
                )

    def is_open(self, nonce: str, now: float) -> bool:
        """Whether a link with ``nonce`` would still confirm its signup."""
        row = self.state.db.execute(
            "SELECT 1 FROM signups WHERE nonce_hash = ? AND expires_at > ?",
            (nonce_hash(nonce), now),
        ).fetchone()
        return row is not None

    def confirm(self, nonce: str, now: float) -> Subscriber | None:
        """Use the link with ``nonce``: its subscriber becomes active and every link of the
        signup ends. None when the link was used, expired or ended (nothing changes)."""
        with self.state.transaction() as db:
            row = db.execute(
                "SELECT subscriber_id FROM signups WHERE nonce_hash = ? AND expires_at > ?",
                (nonce_hash(nonce), now),
            ).fetchone()
            if row is None:
                return None
            (subscriber_id,) = row
            # The trigger removes the links of a bounced or complained subscriber, so the
            # status here is pending, unsubscribed (a reader coming back) or active.
            db.execute(
                "UPDATE subscribers SET status = 'active', reason = 'confirmed', updated_at = ? "
                "WHERE id = ? AND status IN ('pending', 'unsubscribed')",
                (_stamp(now), subscriber_id),
            )
            db.execute("DELETE FROM signups WHERE subscriber_id = ?", (subscriber_id,))
        return self.subscribers.by_id(subscriber_id)

    def is_pending(self, uid: str) -> bool:
        """Whether the subscriber with ``uid`` waits for a confirmation (for the links of
        earlier versions, which named the subscriber instead of the signup)."""
        sub = self.subscribers.by_uid(uid)
        return sub is not None and sub.status == "pending"

    def confirm_pending(self, uid: str) -> Subscriber | None:
        """A link of an earlier version: confirms its subscriber only while pending, so it
        cannot undo an unsubscribe, a bounce, a complaint or an erasure."""
        with self.state.transaction() as db:
            cur = db.execute(
                "UPDATE subscribers SET status = 'active', reason = 'confirmed', updated_at = ? "
                "WHERE uid = ? AND status = 'pending'",
                (_stamp(time.time()), uid),
            )
            if cur.rowcount == 0:
                return None
            db.execute(
                "DELETE FROM signups WHERE subscriber_id = (SELECT id FROM subscribers "
                "WHERE uid = ?)",
                (uid,),
            )
        return self.subscribers.by_uid(uid)

    def expire(self, rules: MailRules, now: float) -> int:
        """Forget signups past their expiry, the pending subscribers they added, and email
        counts older than a day; the number of subscribers forgotten."""
        with self.state.transaction() as db:
            cur = db.execute(
                "DELETE FROM subscribers WHERE status = 'pending' AND id IN "
                "(SELECT subscriber_id FROM signups WHERE added_row = 1 AND expires_at <= ?) "
                "AND id NOT IN (SELECT subscriber_id FROM signups WHERE expires_at > ?)",
                (now, now),
            )
            forgotten = cur.rowcount
            db.execute("DELETE FROM signups WHERE expires_at <= ?", (now,))
            db.execute(
                "DELETE FROM confirmation_mails WHERE first_at <= ? AND last_at <= ?",
                (now - DAY, now - rules.cooldown),
            )
        return forgotten
