"""Applying what email services and the reply mailbox report: bounces, complaints,
unsubscribes. A report never weakens a stronger one: an address that complained stays
``complained`` when it later bounces."""

from __future__ import annotations

from newsroom.core.feedback import EVENT_STATUSES, BadEvents, Event, Feedback, Refused
from newsroom.deliver.subscribers import Subscribers
from newsroom.store import replays
from newsroom.store.state import State

#: How strong a status is; a report applies when it is at least as strong as the current one.
_RANK = {"active": 0, "pending": 0, "unsubscribed": 1, "bounced": 2, "complained": 3}
#: Reports counted under their own name that change no subscriber.
_COUNTED = {"soft_bounce": "soft_bounces", "delivered": "delivered"}


def apply_events(subscribers: Subscribers, events: list[Event]) -> dict[str, int]:
    """Record every event; counts of ``applied`` and ``unknown`` addresses (and of soft
    bounces and deliveries, which change nothing, when there were any)."""
    counts = {"applied": 0, "unknown": 0}
    for event in events:
        if event.status in _COUNTED:
            key = _COUNTED[event.status]
            counts[key] = counts.get(key, 0) + 1
            continue
        sub = subscribers.get(event.email)
        if sub is None:
            counts["unknown"] += 1
            continue
        counts["applied"] += 1
        if _RANK[event.status] >= _RANK[sub.status] and event.status != sub.status:
            subscribers.set_status(sub.id, event.status, event.reason)
    return counts


def record_feedback(
    state: State, receiver: str, feedback: Feedback, now: float, keep: float
) -> dict[str, int]:
    """Apply an email service's report once: its ids are recorded first (for ``keep``
    seconds), and a report with an id seen before is refused (409) and changes nothing."""
    for event in feedback.events:
        if event.status not in EVENT_STATUSES:
            raise BadEvents(f"{receiver}: unknown event status {event.status!r}")
    if feedback.ids:
        with state.transaction() as db:
            fresh = replays.first_sight(db, receiver, feedback.ids, now, keep)
        if not fresh:
            raise Refused(409, "this report was received before: a replay")
    return apply_events(Subscribers(state), feedback.events)
