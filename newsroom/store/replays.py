"""The ids of email services' reports seen lately, so that a report is applied once.

A Mailgun token, an SNS MessageId or a SendGrid ``sg_event_id`` is remembered for a
receiver's window (a report older than that is refused as stale anyway); the same id again
within it is a replay. The table is made by step 8 of :mod:`newsroom.store.migrations`;
its statements are here, in the SQL both engines read.
"""

from __future__ import annotations

from newsroom.store.engine import Connection


def first_sight(db: Connection, receiver: str, ids: list[str], now: float, keep: float) -> bool:
    """Record ``ids`` for ``keep`` seconds; False (and nothing recorded) when one of them
    was seen before and has not expired. Runs in the caller's transaction."""
    db.execute("DELETE FROM feedback_seen WHERE expires_at < ?", (now,))
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        marks = ",".join("?" * len(chunk))
        seen = db.execute(
            f"SELECT 1 FROM feedback_seen WHERE receiver = ? AND id IN ({marks}) LIMIT 1",
            (receiver, *chunk),
        ).fetchone()
        if seen:
            return False
    db.executemany(
        "INSERT INTO feedback_seen (receiver, id, expires_at) VALUES (?, ?, ?)",
        [(receiver, i, now + keep) for i in unique],
    )
    return True
