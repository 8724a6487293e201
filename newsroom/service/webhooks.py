"""Bounce and complaint reports from email services: ``POST /webhooks/events``.

The body is one event or a list of them::

    {"email": "reader@example.org", "type": "bounce", "reason": "550 5.1.1 no such user"}

``type`` is ``bounce``, ``complaint`` or ``unsubscribe``. A report never weakens a stronger
one: an address that complained stays ``complained`` when it later bounces.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from newsroom.subscribers import Subscribers

STATUS_OF = {"bounce": "bounced", "complaint": "complained", "unsubscribe": "unsubscribed"}
#: How strong a status is; a report applies when it is at least as strong as the current one.
_RANK = {"active": 0, "pending": 0, "unsubscribed": 1, "bounced": 2, "complained": 3}
MAX_EVENTS = 10_000


class BadEvents(ValueError):
    """The body is not a list of events; the message says why."""


@dataclass(frozen=True)
class Event:
    email: str
    status: str
    reason: str


def parse_events(body: bytes) -> list[Event]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadEvents(f"the body is not JSON: {exc}") from None
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_EVENTS:
        raise BadEvents(f"at most {MAX_EVENTS} events per request")
    events = []
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadEvents(f"event {n}: must be an object with email and type")
        email, kind, reason = item.get("email"), item.get("type"), item.get("reason", "")
        if not isinstance(email, str) or not email:
            raise BadEvents(f"event {n}: email must be a string")
        if kind not in STATUS_OF:
            raise BadEvents(f"event {n}: type must be one of {', '.join(STATUS_OF)}")
        if not isinstance(reason, str):
            raise BadEvents(f"event {n}: reason must be a string")
        events.append(Event(email, STATUS_OF[kind], reason or f"webhook: {kind}"))
    return events


def apply_events(subscribers: Subscribers, events: list[Event]) -> dict[str, int]:
    """Record every event; counts of ``applied`` and ``unknown`` addresses."""
    applied = unknown = 0
    for event in events:
        sub = subscribers.get(event.email)
        if sub is None:
            unknown += 1
            continue
        applied += 1
        if _RANK[event.status] >= _RANK[sub.status] and event.status != sub.status:
            subscribers.set_status(sub.id, event.status, event.reason)
    return {"applied": applied, "unknown": unknown}
