"""Mailgun's webhooks (``failed``, ``complained``, ``unsubscribed``, ``delivered``).

Each request is a JSON object with a ``signature`` (``timestamp``, ``token``, ``signature``:
the hex HMAC-SHA256 of timestamp + token under the account's webhook signing key) and the
``event-data``. A request older than ``max_age`` is refused, and so is a token seen before.
A ``failed`` event is a bounce when its ``severity`` is ``permanent``; ``temporary`` ones
are soft bounces (Mailgun retries them).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from pydantic import Field, SecretStr

from newsroom import Event, Feedback, FeedbackReceiver, FeedbackRequest, Options, Refused
from newsroom.core.feedback import BadEvents, check_fresh

from .common import json_body, text


class MailgunOptions(Options):
    signing_key: SecretStr
    """The HTTP webhook signing key (Mailgun's Sending → Webhooks page):
    ``{ "$env" = "MAILGUN_WEBHOOK_SIGNING_KEY" }``."""
    max_age: float = Field(300, gt=0)
    """Seconds a report's timestamp may be away from this machine's clock."""


class MailgunReceiver(FeedbackReceiver):
    """Mailgun's webhooks, checked by their HMAC signature."""

    name = "mailgun"
    Options = MailgunOptions

    async def receive(self, request: FeedbackRequest) -> Feedback:
        options: MailgunOptions = self.options
        data = json_body(request.body)
        signature = data.get("signature") if isinstance(data, dict) else None
        if not isinstance(signature, dict):
            raise Refused(401, "no Mailgun signature in the request")
        stamp, token, given = (
            signature.get("timestamp"),
            signature.get("token"),
            signature.get("signature"),
        )
        if not all(isinstance(v, str) and v for v in (stamp, token, given)):
            raise Refused(401, "the Mailgun signature needs timestamp, token and signature")
        assert isinstance(stamp, str) and isinstance(token, str) and isinstance(given, str)
        key = options.signing_key.get_secret_value().encode("utf-8")
        expected = hmac.new(key, (stamp + token).encode("utf-8"), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
            raise Refused(401, "the Mailgun signature does not match (wrong signing key?)")
        try:
            sent = float(stamp)
        except ValueError:
            raise Refused(400, "the Mailgun timestamp is not a number") from None
        check_fresh(sent, request.now, self.max_age, "the Mailgun timestamp")
        event = data.get("event-data")
        if not isinstance(event, dict):
            raise BadEvents("no event-data in the request")
        return Feedback(events=_events(event), ids=[f"token:{token}"])


def _events(data: dict[str, Any]) -> list[Event]:
    kind = data.get("event")
    email = data.get("recipient")
    if not isinstance(email, str) or not email:
        raise BadEvents("event-data.recipient must be an address")
    status = data.get("delivery-status")
    status = status if isinstance(status, dict) else {}
    detail = text(status.get("description") or status.get("message") or data.get("reason") or kind)
    if kind == "failed":
        code = status.get("code")
        reason = f"mailgun: {code} {detail}" if code else f"mailgun: {detail}"
        permanent = data.get("severity") == "permanent"
        return [Event(email, "bounced" if permanent else "soft_bounce", reason)]
    if kind == "complained":
        return [Event(email, "complained", "mailgun: complaint")]
    if kind == "unsubscribed":
        return [Event(email, "unsubscribed", "mailgun: unsubscribed")]
    if kind == "delivered":
        return [Event(email, "delivered", "")]
    return []  # accepted, opened, clicked, ...: nothing to record
