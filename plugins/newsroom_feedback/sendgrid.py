"""SendGrid's Event Webhook, with its signed events.

SendGrid signs each request with ECDSA (P-256, SHA-256) over the timestamp header followed
by the body; the verification key is the account's public key (Mail Settings → Event
Webhook → Signature Verification), base64 as SendGrid shows it. A request older than
``max_age`` is refused, and so is one with an ``sg_event_id`` seen before. A ``bounce``
event is a bounce when its ``type`` is ``bounce`` and a soft bounce when it is ``blocked``
(SendGrid's own distinction); ``deferred`` is a soft bounce too.
"""

from __future__ import annotations

import base64
import binascii
from functools import cached_property
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from newsroom import Event, Feedback, FeedbackReceiver, FeedbackRequest, Options, Refused
from newsroom.core.feedback import BadEvents, check_fresh

from .common import as_list, json_body, text

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE_HEADER = "x-twilio-email-event-webhook-signature"
TIMESTAMP_HEADER = "x-twilio-email-event-webhook-timestamp"


class SendgridOptions(Options):
    public_key: str
    """The verification key SendGrid shows for the signed Event Webhook (base64, one line).
    It is public: it can only check signatures, not make them."""
    max_age: float = Field(300, gt=0)
    """Seconds a request's timestamp may be away from this machine's clock."""

    @field_validator("public_key")
    @classmethod
    def _key(cls, value: str) -> str:
        _load_key(value)
        return value.strip()


def _load_key(value: str) -> ec.EllipticCurvePublicKey:
    # cryptography comes with the `services` extra: imported when a receiver is configured,
    # so that the plugin registers without it.
    try:
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import load_der_public_key
    except ImportError:
        raise ValueError("checking SendGrid's signatures needs newsroom-digest[services]") from None
    try:
        key = load_der_public_key(base64.b64decode("".join(value.split()), validate=True))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not a base64 public key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("not an elliptic-curve (ECDSA) public key")
    return key


class SendgridReceiver(FeedbackReceiver):
    """SendGrid's signed Event Webhook."""

    name = "sendgrid"
    Options = SendgridOptions

    @cached_property
    def key(self) -> ec.EllipticCurvePublicKey:
        options: SendgridOptions = self.options
        return _load_key(options.public_key)

    async def receive(self, request: FeedbackRequest) -> Feedback:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        signature = request.headers.get(SIGNATURE_HEADER, "")
        stamp = request.headers.get(TIMESTAMP_HEADER, "")
        if not signature or not stamp:
            raise Refused(401, "the request is not signed (Signature Verification is off?)")
        try:
            der = base64.b64decode(signature, validate=True)
            self.key.verify(der, stamp.encode("utf-8") + request.body, ec.ECDSA(hashes.SHA256()))
        except (binascii.Error, ValueError, InvalidSignature):
            raise Refused(401, "the SendGrid signature does not match") from None
        try:
            sent = float(stamp)
        except ValueError:
            raise Refused(400, "the SendGrid timestamp is not a number") from None
        check_fresh(sent, request.now, self.max_age, "the SendGrid timestamp")
        events: list[Event] = []
        ids: list[str] = []
        for n, item in enumerate(as_list(json_body(request.body), "events")):
            if not isinstance(item, dict):
                raise BadEvents(f"event {n}: must be an object")
            event_id = item.get("sg_event_id")
            if isinstance(event_id, str) and event_id:
                ids.append(event_id)
            events.extend(_events(n, item))
        return Feedback(events=events, ids=ids)


def _events(n: int, item: dict[str, Any]) -> list[Event]:
    kind = item.get("event")
    email = item.get("email")
    if not isinstance(email, str) or not email:
        raise BadEvents(f"event {n}: email must be an address")
    detail = text(item.get("reason") or item.get("response") or kind)
    if kind == "bounce":
        hard = item.get("type", "bounce") != "blocked"
        return [Event(email, "bounced" if hard else "soft_bounce", f"sendgrid: {detail}")]
    if kind == "deferred":
        return [Event(email, "soft_bounce", f"sendgrid: {detail}")]
    if kind == "spamreport":
        return [Event(email, "complained", "sendgrid: spam report")]
    if kind in ("unsubscribe", "group_unsubscribe"):
        return [Event(email, "unsubscribed", f"sendgrid: {kind}")]
    if kind == "delivered":
        return [Event(email, "delivered", "")]
    return []  # processed, dropped, open, click, ...: nothing to record
