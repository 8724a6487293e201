"""Postmark's webhooks: Bounce, SpamComplaint, SubscriptionChange and Delivery.

Postmark signs nothing; its webhook URL carries HTTP basic authentication
(``https://user:password@host/webhooks/postmark``), checked here in constant time. A report
whose time (``BouncedAt``, ``DeliveredAt``, ...) is older than ``max_age`` is refused, and
so is a record id seen before. A bounce is hard when Postmark deactivated the address
(``Inactive``) or its type is one of the hard ones (``HardBounce``, ``BadEmailAddress``,
``ManuallyDeactivated``); the others (``SoftBounce``, ``Transient``, ``DnsError``, ...)
are soft.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr

from newsroom import Event, Feedback, FeedbackReceiver, FeedbackRequest, Options
from newsroom.core.feedback import BadEvents, check_fresh, iso_time

from .common import check_basic_auth, json_body, text

HARD_TYPES = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated"}
COMPLAINT_TYPES = {"SpamComplaint"}
UNSUBSCRIBE_TYPES = {"Unsubscribe"}
#: The field with the record's time, by RecordType.
TIME_FIELD = {
    "Bounce": "BouncedAt",
    "SpamComplaint": "BouncedAt",
    "Delivery": "DeliveredAt",
    "SubscriptionChange": "ChangedAt",
}


class PostmarkOptions(Options):
    username: str = "postmark"
    """The user name in the webhook URL's basic authentication."""
    password: SecretStr
    """The password in the webhook URL: ``{ "$env" = "POSTMARK_WEBHOOK_PASSWORD" }``."""
    max_age: float = Field(86400, gt=0)
    """Seconds a report may be old (Postmark retries a failed webhook for hours)."""


class PostmarkReceiver(FeedbackReceiver):
    """Postmark's webhooks, behind HTTP basic authentication."""

    name = "postmark"
    Options = PostmarkOptions

    async def receive(self, request: FeedbackRequest) -> Feedback:
        options: PostmarkOptions = self.options
        check_basic_auth(request.headers, options.username, options.password.get_secret_value())
        record = json_body(request.body)
        if not isinstance(record, dict):
            raise BadEvents("a Postmark webhook body is one JSON object")
        kind = record.get("RecordType")
        if not isinstance(kind, str):
            raise BadEvents("RecordType is missing")
        if kind in TIME_FIELD:
            sent = iso_time(record.get(TIME_FIELD[kind]), f"{TIME_FIELD[kind]}")
            check_fresh(sent, request.now, self.max_age, TIME_FIELD[kind])
        record_id = record.get("ID") or record.get("MessageID")
        ids = [f"{kind}:{record_id}"] if record_id is not None else []
        return Feedback(events=_events(kind, record), ids=ids)


def _events(kind: str, record: dict[str, Any]) -> list[Event]:
    email = record.get("Email") or record.get("Recipient")
    if kind not in TIME_FIELD:
        return []  # Open, Click, Inbound: nothing to record
    if not isinstance(email, str) or not email:
        raise BadEvents(f"{kind}: Email (or Recipient) must be an address")
    bounce_type = str(record.get("Type", ""))
    detail = text(record.get("Description") or record.get("Details") or bounce_type)
    if kind == "SpamComplaint" or bounce_type in COMPLAINT_TYPES:
        return [Event(email, "complained", "postmark: spam complaint")]
    if kind == "Bounce":
        if bounce_type in UNSUBSCRIBE_TYPES:
            return [Event(email, "unsubscribed", "postmark: unsubscribe request")]
        hard = record.get("Inactive") is True or bounce_type in HARD_TYPES
        return [
            Event(email, "bounced" if hard else "soft_bounce", f"postmark: {bounce_type}: {detail}")
        ]
    if kind == "SubscriptionChange":
        if record.get("SuppressSending") is not True:
            return []  # reactivated: newsroom's own resubscribe decides that
        why = str(record.get("SuppressionReason", ""))
        if why == "HardBounce":
            return [Event(email, "bounced", "postmark: suppressed after a hard bounce")]
        if why == "SpamComplaint":
            return [Event(email, "complained", "postmark: suppressed after a complaint")]
        return [Event(email, "unsubscribed", f"postmark: suppressed ({text(why)})")]
    return [Event(email, "delivered", "")]
