"""Bounce and complaint reports from email services: ``POST /webhooks/events``.

The body is one event or a list of them::

    {"email": "reader@example.org", "type": "bounce", "reason": "550 5.1.1 no such user"}

``type`` is ``bounce``, ``complaint`` or ``unsubscribe``. A report never weakens a stronger
one: an address that complained stays ``complained`` when it later bounces.

A request carries the shared secret (``Authorization: Bearer ...``) and the time it was
made (``Newsroom-Timestamp``, Unix seconds); one more than ``webhook_max_age`` away from the
service's clock is refused, so a request seen once cannot be replayed later.

A :class:`Receiver` turns one kind of request into events: :class:`NewsroomReceiver` reads
newsroom's own format. Email services' own formats are read by
:class:`~newsroom.core.feedback.FeedbackReceiver` plugins (``register_feedback``), each
answered at ``/webhooks/<name>``: :func:`record_feedback` applies what they report, once.
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from newsroom.core.feedback import MAX_EVENTS, BadEvents, Event, Refused
from newsroom.deliver.reports import apply_events, record_feedback

__all__ = [
    "MAX_EVENTS",
    "BadEvents",
    "Event",
    "NewsroomReceiver",
    "Receiver",
    "Refused",
    "apply_events",
    "parse_events",
    "record_feedback",
]

TIMESTAMP_HEADER = "Newsroom-Timestamp"

STATUS_OF = {"bounce": "bounced", "complaint": "complained", "unsubscribe": "unsubscribed"}


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


class Receiver(Protocol):
    """Reads one kind of webhook request."""

    def check(self, headers: Mapping[str, str], body: bytes, now: float) -> None:
        """Raise :class:`Refused` unless the request is authentic and fresh."""

    def parse(self, body: bytes) -> list[Event]:
        """The events of an accepted request; :class:`BadEvents` when the body is not."""


@dataclass(frozen=True)
class NewsroomReceiver:
    """newsroom's own format, behind a bearer secret and a timestamp."""

    secret: str
    max_age: float

    def check(self, headers: Mapping[str, str], body: bytes, now: float) -> None:
        if not self.secret:
            raise Refused(503, "no [subscriptions] webhook_secret configured")
        given = headers.get("authorization", "")
        if not hmac.compare_digest(given.encode("utf-8"), f"Bearer {self.secret}".encode()):
            raise Refused(401, "wrong or missing secret")
        stamp = headers.get(TIMESTAMP_HEADER.lower(), "")
        try:
            sent = float(stamp)
        except ValueError:
            sent = math.nan
        if not math.isfinite(sent):
            raise Refused(
                400,
                f"the {TIMESTAMP_HEADER} header must be the time of the request, in Unix seconds",
            )
        if now - sent > self.max_age:
            raise Refused(
                400,
                f"the request is too old ({TIMESTAMP_HEADER} {now - sent:.0f} s ago, at "
                f"most {self.max_age:g}): a replay, or the sender's clock is wrong",
            )
        if sent - now > self.max_age:
            raise Refused(400, f"{TIMESTAMP_HEADER} is in the future: the sender's clock is wrong")

    def parse(self, body: bytes) -> list[Event]:
        return parse_events(body)
