"""The feedback contract: how an email service's reports reach newsroom.

An email service tells the sender what became of its messages: a bounce (permanent or
transient), a complaint (the reader pressed "spam"), an unsubscribe, a delivery. A
:class:`FeedbackReceiver` is a component registered with the ``register_feedback`` hook and
configured by a ``[[feedback]]`` table; ``newsroom serve`` answers it at
``/webhooks/<name>``. It checks that a request really comes from its service (a signature,
a shared secret) and is fresh, and translates the service's own format into
:class:`Event` objects. Everything else (the replay table, applying the events, the HTTP
answer) is the service's.
"""

from __future__ import annotations

import datetime as dt
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from newsroom.core.components import Component

#: What an event does to its subscriber. ``soft_bounce`` (a transient failure: a full
#: mailbox, a greylisting server) and ``delivered`` are counted and change nothing.
EVENT_STATUSES = ("bounced", "complained", "unsubscribed", "soft_bounce", "delivered")
#: Most events one request may carry.
MAX_EVENTS = 10_000


class BadEvents(ValueError):
    """The body is not a list of events; the message says why."""


class Refused(Exception):
    """A request that is not let in; ``status`` is the HTTP answer (400, 401, 403, 409,
    503)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Event:
    """One report about one address."""

    email: str
    status: str
    """One of :data:`EVENT_STATUSES`."""
    reason: str


@dataclass(frozen=True)
class FeedbackRequest:
    """A webhook request as a receiver sees it."""

    headers: Mapping[str, str]
    """Header names in lower case."""
    body: bytes
    now: float
    """The service's clock, Unix seconds."""


@dataclass
class Feedback:
    """What an authentic, fresh request reported."""

    events: list[Event] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    """The service's ids for this request or its events (a Mailgun token, an SNS
    MessageId, SendGrid's ``sg_event_id``): a request with an id seen within the
    receiver's window is refused as a replay and changes nothing."""
    note: str = ""
    """Said in the answer, e.g. that a subscription was confirmed."""


class FeedbackReceiver(Component, ABC):
    """Reads one email service's reports. Register with ``register_feedback``.

    ``Options`` should declare ``max_age`` (seconds a report may be old; also how long its
    ids are remembered) and the service's secrets as :class:`pydantic.SecretStr`.
    """

    max_age_default: ClassVar[float] = 300.0

    @property
    def max_age(self) -> float:
        """Seconds a report may be away from the service's clock."""
        value = getattr(self.options, "max_age", None)
        return float(value) if value is not None else self.max_age_default

    @abstractmethod
    async def receive(self, request: FeedbackRequest) -> Feedback:
        """The events of an authentic, fresh request; raise :class:`Refused` when it is
        not, :class:`BadEvents` when its body cannot be read."""


def check_fresh(sent: float, now: float, max_age: float, what: str) -> None:
    """Refuse a report made more than ``max_age`` seconds before ``now`` (a replay, or a
    wrong clock) or as far in the future."""
    if not math.isfinite(sent):
        raise Refused(400, f"{what} must be a time")
    if now - sent > max_age:
        raise Refused(
            400,
            f"the report is too old ({what} {now - sent:.0f} s ago, at most {max_age:g}): "
            "a replay, or the sender's clock is wrong",
        )
    if sent - now > max_age:
        raise Refused(400, f"{what} is in the future: the sender's clock is wrong")


def iso_time(value: object, what: str) -> float:
    """Unix seconds of an ISO 8601 time (``2026-03-01T12:00:00.000Z``); 400 when it is
    not one."""
    if not isinstance(value, str):
        raise Refused(400, f"{what} is missing")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(400, f"{what} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()
