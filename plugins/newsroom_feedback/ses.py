"""Amazon SES's bounce, complaint and delivery notifications, through Amazon SNS.

SES publishes to an SNS topic; the topic's HTTPS subscription posts each notification here.
A request is accepted when:

* its SNS signature verifies (``SignatureVersion`` 1, SHA1withRSA, or 2, SHA256withRSA)
  with the certificate at ``SigningCertURL``, and that URL is
  ``https://sns.<region>.amazonaws.com/...pem`` in the topic's own region: the host is
  checked before anything is fetched (a forged notification cannot make newsroom fetch, or
  trust, a certificate from anywhere else), and certificates are kept once fetched;
* its ``TopicArn`` is one of the configured ``topic_arns``: any AWS account can publish
  correctly signed notifications to a topic of its own;
* its ``Timestamp`` is at most ``max_age`` old and its ``MessageId`` was not seen before.

A ``SubscriptionConfirmation`` for a configured topic is confirmed by visiting its
``SubscribeURL`` (checked the same way). With raw message delivery SNS posts the SES
notification alone, unsigned: it is accepted only when the webhook is behind HTTP basic
authentication (``password``) and the ``x-amz-sns-topic-arn`` header names a configured
topic. A ``Permanent`` bounce is a bounce; ``Transient`` and ``Undetermined`` ones are soft.
SES's event publishing (``eventType``) is read as its notifications (``notificationType``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import OrderedDict
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from pydantic import Field, SecretStr, field_validator

from newsroom import Event, Feedback, FeedbackReceiver, FeedbackRequest, Options, Refused
from newsroom.core.feedback import BadEvents, check_fresh, iso_time

from .common import check_basic_auth, json_body, text

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

#: SNS's own hosts, the only ones a signing certificate or a subscription link may be on.
SNS_HOST = re.compile(r"sns\.([a-z]{2}(?:-[a-z]+)+-[0-9]+)\.amazonaws\.com(?:\.cn)?")
TOPIC_ARN = re.compile(
    r"arn:aws(?:-[a-z]+)*:sns:([a-z]{2}(?:-[a-z]+)+-[0-9]+):[0-9]{12}:[\w-]{1,256}"
)
#: The fields each message type signs, in order (``Subject`` only when present).
SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
SIGNED["UnsubscribeConfirmation"] = SIGNED["SubscriptionConfirmation"]
#: The hash of each SignatureVersion.
HASHES = {"1": "SHA1", "2": "SHA256"}
#: A signing certificate is a few kilobytes.
MAX_DOWNLOAD = 64 * 1024
#: Certificates kept, by URL (SNS rotates its certificate now and then).
CACHE_SIZE = 16
_certificates: OrderedDict[str, rsa.RSAPublicKey] = OrderedDict()


class SesOptions(Options):
    topic_arns: list[str] = Field(min_length=1)
    """The SNS topics SES publishes this newsletter's notifications to
    (``arn:aws:sns:eu-west-1:123456789012:newsletter-feedback``); others are refused."""
    max_age: float = Field(3600, gt=0)
    """Seconds a notification may be old (SNS retries a failed delivery for a while)."""
    confirm_subscriptions: bool = True
    """Confirm a configured topic's subscription request by visiting its SubscribeURL."""
    username: str = "sns"
    """The user name of the webhook URL's basic authentication, when ``password`` is set."""
    password: SecretStr | None = None
    """When set, every request must carry HTTP basic authentication (put it in the
    subscription's URL, ``https://sns:PASSWORD@host/webhooks/ses``); needed for raw message
    delivery, which SNS does not sign."""

    @field_validator("topic_arns")
    @classmethod
    def _arns(cls, value: list[str]) -> list[str]:
        for arn in value:
            if not TOPIC_ARN.fullmatch(arn):
                raise ValueError(f"{arn!r} is not an SNS topic ARN")
        return value


def topic_region(arn: str) -> str:
    match = TOPIC_ARN.fullmatch(arn)
    return match.group(1) if match else ""


def sns_url(url: str, region: str, *, certificate: bool) -> str:
    """``url`` when it is on SNS's own host in ``region`` over https (and, for a
    certificate, a ``.pem`` file); :class:`Refused` otherwise."""
    if not isinstance(url, str):
        raise Refused(400, "the SNS message has no URL where one is needed")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    match = SNS_HOST.fullmatch(parts.hostname or "")
    if (
        parts.scheme != "https"
        or parts.username is not None
        or parts.password is not None
        or port not in (None, 443)
        or match is None
        or match.group(1) != region
        or parts.netloc.lower() not in {parts.hostname, f"{parts.hostname}:443"}
        or (certificate and not parts.path.endswith(".pem"))
    ):
        what = "signing certificate" if certificate else "subscription link"
        raise Refused(
            403,
            f"the {what} is not on SNS's own host for {region} (https://sns.{region}."
            "amazonaws.com/): refused before fetching it",
        )
    return url


def canonical(message: dict[str, Any]) -> bytes:
    """The string SNS signs: each signed field's name and value, one a line."""
    fields = SIGNED.get(str(message.get("Type")))
    if fields is None:
        raise BadEvents(f"unknown SNS message type {message.get('Type')!r}")
    out = []
    for name in fields:
        if name == "Subject" and name not in message:
            continue
        value = message.get(name)
        if not isinstance(value, str):
            raise Refused(400, f"the SNS message has no {name}")
        out.append(f"{name}\n{value}\n")
    return "".join(out).encode("utf-8")


class SesReceiver(FeedbackReceiver):
    """Amazon SES's notifications through SNS, checked by SNS's signature."""

    name = "ses"
    Options = SesOptions
    max_age_default = 3600.0

    async def download(self, url: str) -> bytes:
        """The body at ``url`` (an SNS certificate or subscription link), at most
        :data:`MAX_DOWNLOAD` bytes. Only ever called with a URL :func:`sns_url` accepted."""
        async with (
            httpx.AsyncClient(timeout=10, follow_redirects=False) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise Refused(503, f"{url} answered {response.status_code}")
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_DOWNLOAD:
                    raise Refused(503, f"{url} is larger than {MAX_DOWNLOAD} bytes")
            return body

    async def certificate(self, url: str, region: str) -> rsa.RSAPublicKey:
        sns_url(url, region, certificate=True)
        key = _certificates.get(url)
        if key is not None:
            _certificates.move_to_end(url)
            return key
        try:
            pem = await self.download(url)
        except httpx.HTTPError as exc:
            raise Refused(503, f"cannot fetch the SNS signing certificate: {exc}") from None
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import rsa

        try:
            public = x509.load_pem_x509_certificate(pem).public_key()
        except ValueError:
            raise Refused(503, "the SNS signing certificate cannot be read") from None
        if not isinstance(public, rsa.RSAPublicKey):
            raise Refused(503, "the SNS signing certificate has no RSA key")
        _certificates[url] = public
        while len(_certificates) > CACHE_SIZE:
            _certificates.popitem(last=False)
        return public

    async def verify(self, message: dict[str, Any], region: str) -> None:
        # cryptography comes with the `services` extra: imported here, so that the plugin
        # registers without it.
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        name = HASHES.get(str(message.get("SignatureVersion")))
        if name is None:
            raise Refused(401, "SignatureVersion must be 1 or 2")
        try:
            signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
        except (binascii.Error, ValueError):
            raise Refused(401, "the SNS signature is not base64") from None
        key = await self.certificate(str(message.get("SigningCertURL")), region)
        try:
            key.verify(signature, canonical(message), padding.PKCS1v15(), getattr(hashes, name)())
        except InvalidSignature:
            raise Refused(401, "the SNS signature does not match") from None

    async def receive(self, request: FeedbackRequest) -> Feedback:
        options: SesOptions = self.options
        if options.password is not None:
            check_basic_auth(request.headers, options.username, options.password.get_secret_value())
        data = json_body(request.body)
        if not isinstance(data, dict):
            raise BadEvents("an SNS message is one JSON object")
        if "Signature" not in data and "Type" not in data:
            return self._raw(request, data)
        topic = data.get("TopicArn")
        if topic not in options.topic_arns:
            raise Refused(403, f"notifications from topic {text(topic, 300)!r} are not accepted")
        assert isinstance(topic, str)
        await self.verify(data, topic_region(topic))
        check_fresh(
            iso_time(data.get("Timestamp"), "Timestamp"),
            request.now,
            self.max_age,
            "the SNS Timestamp",
        )
        ids = [f"sns:{data.get('MessageId')}"]
        kind = data.get("Type")
        if kind == "SubscriptionConfirmation":
            if not options.confirm_subscriptions:
                return Feedback(ids=ids, note="subscription not confirmed (confirm_subscriptions)")
            url = sns_url(str(data.get("SubscribeURL")), topic_region(topic), certificate=False)
            try:
                await self.download(url)
            except httpx.HTTPError as exc:
                raise Refused(503, f"cannot confirm the subscription: {exc}") from None
            return Feedback(ids=ids, note=f"subscription to {topic} confirmed")
        if kind != "Notification":
            return Feedback(ids=ids)
        message = data.get("Message")
        try:
            notification = json.loads(message) if isinstance(message, str) else None
        except ValueError:
            notification = None
        if not isinstance(notification, dict):
            # A test message from the console, or another service's: nothing to record.
            return Feedback(ids=ids)
        return Feedback(events=ses_events(notification), ids=ids)

    def _raw(self, request: FeedbackRequest, notification: dict[str, Any]) -> Feedback:
        options: SesOptions = self.options
        if options.password is None:
            raise Refused(
                401,
                "an unsigned (raw delivery) notification is accepted only behind basic "
                "authentication: set [[feedback]] password, or turn raw delivery off",
            )
        topic = request.headers.get("x-amz-sns-topic-arn", "")
        if topic not in options.topic_arns:
            raise Refused(403, f"notifications from topic {text(topic, 300)!r} are not accepted")
        kind = _kind(notification)
        detail = notification.get(kind.lower()) if kind else None
        if not isinstance(detail, dict):
            return Feedback()
        check_fresh(
            iso_time(detail.get("timestamp"), f"{kind}.timestamp"),
            request.now,
            self.max_age,
            f"the {kind} timestamp",
        )
        mail = notification.get("mail")
        message_id = mail.get("messageId") if isinstance(mail, dict) else None
        key = detail.get("feedbackId") or message_id
        ids = [f"ses:{kind}:{key}"] if key else []
        return Feedback(events=ses_events(notification), ids=ids)


def _kind(notification: dict[str, Any]) -> str:
    kind = notification.get("notificationType") or notification.get("eventType")
    return kind if isinstance(kind, str) else ""


def _addresses(entries: Any, key: str) -> list[dict[str, Any]]:
    if not isinstance(entries, list):
        raise BadEvents(f"{key} must be a list")
    out = []
    for entry in entries:
        if isinstance(entry, str):
            entry = {"emailAddress": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("emailAddress"), str):
            raise BadEvents(f"{key}: each entry needs an emailAddress")
        out.append(entry)
    return out


def ses_events(notification: dict[str, Any]) -> list[Event]:
    """The events of one SES notification (``notificationType``) or published event
    (``eventType``)."""
    kind = _kind(notification)
    if kind == "Bounce":
        bounce = notification.get("bounce")
        if not isinstance(bounce, dict):
            raise BadEvents("a Bounce notification needs a bounce object")
        permanent = bounce.get("bounceType") == "Permanent"
        summary = f"{bounce.get('bounceType')}/{bounce.get('bounceSubType')}"
        return [
            Event(
                r["emailAddress"],
                "bounced" if permanent else "soft_bounce",
                f"ses: {summary}: {text(r.get('diagnosticCode'))}".rstrip(": "),
            )
            for r in _addresses(bounce.get("bouncedRecipients"), "bouncedRecipients")
        ]
    if kind == "Complaint":
        complaint = notification.get("complaint")
        if not isinstance(complaint, dict):
            raise BadEvents("a Complaint notification needs a complaint object")
        why = text(complaint.get("complaintFeedbackType") or "complaint")
        return [
            Event(r["emailAddress"], "complained", f"ses: {why}")
            for r in _addresses(complaint.get("complainedRecipients"), "complainedRecipients")
        ]
    if kind == "Delivery":
        delivery = notification.get("delivery")
        recipients = delivery.get("recipients") if isinstance(delivery, dict) else None
        return [
            Event(r["emailAddress"], "delivered", "")
            for r in _addresses(recipients or [], "recipients")
        ]
    return []  # Send, Reject, Open, Click, DeliveryDelay, ...: nothing to record
