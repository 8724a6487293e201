"""Email services' reports (``[[feedback]]``): Amazon SES through SNS, Mailgun, Postmark and
SendGrid, each in its documented format, signed here with keys the tests make, posted to
``newsroom serve``'s ``/webhooks/<name>``; a forged, stale or replayed report changes
nothing.

SNS's signing certificate is served by a real HTTP server on 127.0.0.1. The production
receiver (``ses``) fetches certificates only from ``https://sns.<region>.amazonaws.com``;
the tests register ``ses-local`` from a plugins folder, the same receiver whose
``download`` maps that host onto the local server, so every check before the download (the
host pattern among them) is the production code's.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from newsroom_feedback.ses import sns_url

from newsroom.config.newsletter import open_newsletter
from newsroom.core.errors import ConfigError
from newsroom.core.feedback import Refused
from newsroom.deliver.subscribers import Subscribers
from newsroom.service import create_app
from newsroom.store.state import State
from newsroom.testing import LocalServer

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

TOPIC = "arn:aws:sns:eu-west-1:123456789012:newsletter-feedback"
SNS = "https://sns.eu-west-1.amazonaws.com"
MAILGUN_KEY = "key-mailgun-signing-0123456789abcdef"
POSTMARK_PASSWORD = "postmark-webhook-password-0123"
SNS_PASSWORD = "sns-raw-delivery-password-0123"

LOCAL_SNS_PLUGIN = '''
"""The ses receiver with SNS's host answered by the tests' server on 127.0.0.1."""
import os
from urllib.parse import urlsplit

from newsroom import hookimpl
from newsroom_feedback.ses import SesReceiver


class LocalSnsReceiver(SesReceiver):
    name = "ses-local"

    async def download(self, url):
        parts = urlsplit(url)
        query = "?" + parts.query if parts.query else ""
        return await super().download(os.environ["NEWSROOM_TEST_SNS"] + parts.path + query)


@hookimpl
def register_feedback(register):
    register(LocalSnsReceiver)
'''


def _certificate(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


SNS_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SENDGRID_KEY = ec.generate_private_key(ec.SECP256R1())
SENDGRID_PUBLIC = base64.b64encode(
    SENDGRID_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
).decode()


@dataclass
class Env:
    root: Path
    client: TestClient
    sns: LocalServer
    cert_path: str

    def status(self, email: str) -> str:
        with State(self.root / "state.db") as state:
            sub = Subscribers(state).get(email)
        assert sub is not None
        return sub.status

    def statuses(self) -> dict[str, str]:
        with State(self.root / "state.db") as state:
            return dict(state.db.execute("SELECT email, status FROM subscribers").fetchall())


READERS = ["hard@example.org", "soft@example.org", "angry@example.org", "fine@example.org"]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", "test-signing-key-0123456789abcdefghijkl")
    monkeypatch.setenv("MAILGUN_WEBHOOK_SIGNING_KEY", MAILGUN_KEY)
    monkeypatch.setenv("POSTMARK_WEBHOOK_PASSWORD", POSTMARK_PASSWORD)
    monkeypatch.setenv("SNS_WEBHOOK_PASSWORD", SNS_PASSWORD)
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "localsns.py").write_text(LOCAL_SNS_PLUGIN, "utf-8")
    (tmp_path / "newsroom.toml").write_text(
        '[newsletter]\ntitle = "Briefing"\n'
        '[[sources]]\nname = "n"\nplugin = "news"\nfeeds = ["http://127.0.0.1:9/x"]\n'
        '[email]\nfrom = "Briefing <briefing@example.org>"\n'
        '[subscriptions]\nurl = "http://127.0.0.1:8025/"\n'
        '[plugins]\nplugins_dir = "plugins"\n'
        f'[[feedback]]\nplugin = "ses-local"\nname = "ses"\ntopic_arns = ["{TOPIC}"]\n'
        f'[[feedback]]\nplugin = "ses-local"\nname = "ses-raw"\ntopic_arns = ["{TOPIC}"]\n'
        'password = { "$env" = "SNS_WEBHOOK_PASSWORD" }\n'
        '[[feedback]]\nplugin = "mailgun"\n'
        'signing_key = { "$env" = "MAILGUN_WEBHOOK_SIGNING_KEY" }\n'
        '[[feedback]]\nplugin = "postmark"\n'
        'password = { "$env" = "POSTMARK_WEBHOOK_PASSWORD" }\n'
        f'[[feedback]]\nplugin = "sendgrid"\npublic_key = "{SENDGRID_PUBLIC}"\n',
        "utf-8",
    )
    newsletter = open_newsletter(tmp_path / "newsroom.toml")
    with State(newsletter.config.state_path) as state:
        for address in READERS:
            Subscribers(state).add(address, status="active")
    cert_path = f"/SimpleNotificationService-{uuid.uuid4().hex}.pem"
    with LocalServer() as sns:
        sns.add(cert_path, _certificate(SNS_KEY))
        sns.add("/", "<ConfirmSubscriptionResponse/>")
        monkeypatch.setenv("NEWSROOM_TEST_SNS", sns.url)
        with TestClient(create_app(newsletter)) as client:
            yield Env(tmp_path, client, sns, cert_path)


# -- Amazon SES through SNS ---------------------------------------------------------------------


def _iso(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sns_message(
    env: Env,
    message: str,
    *,
    kind: str = "Notification",
    version: str = "1",
    key: rsa.RSAPrivateKey = SNS_KEY,
    at: float | None = None,
    cert_url: str | None = None,
    topic: str = TOPIC,
    **extra: str,
) -> dict[str, str]:
    """An SNS HTTP(S) message as SNS documents it, signed with ``key``."""
    data = {
        "Type": kind,
        "MessageId": str(uuid.uuid4()),
        "TopicArn": topic,
        "Message": message,
        "Timestamp": _iso(time.time() if at is None else at),
        "SignatureVersion": version,
        "SigningCertURL": cert_url or SNS + env.cert_path,
        **extra,
    }
    if kind == "Notification":
        data["UnsubscribeURL"] = f"{SNS}/?Action=Unsubscribe&SubscriptionArn={TOPIC}:1"
        fields = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        fields = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    signed = "".join(f"{f}\n{data[f]}\n" for f in fields if f in data).encode()
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    data["Signature"] = base64.b64encode(key.sign(signed, padding.PKCS1v15(), algorithm)).decode()
    return data


def ses_bounce(address: str, bounce_type: str) -> dict[str, Any]:
    return {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": address,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": _iso(time.time()),
            "feedbackId": str(uuid.uuid4()),
        },
        "mail": {"messageId": str(uuid.uuid4()), "destination": [address]},
    }


def ses_complaint(address: str) -> dict[str, Any]:
    return {
        "notificationType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": address}],
            "complaintFeedbackType": "abuse",
            "timestamp": _iso(time.time()),
            "feedbackId": str(uuid.uuid4()),
        },
        "mail": {"messageId": str(uuid.uuid4())},
    }


def post_sns(env: Env, data: dict[str, str], path: str = "/webhooks/ses", **headers: str) -> Any:
    return env.client.post(
        path,
        content=json.dumps(data).encode(),
        headers={
            "Content-Type": "text/plain; charset=UTF-8",
            "x-amz-sns-message-type": data.get("Type", ""),
            **headers,
        },
    )


def test_ses_bounces_and_complaints_through_signed_sns_notifications(env: Env) -> None:
    for version, (payload, expected) in zip(
        ("1", "2", "2", "1"),
        [
            (ses_bounce("hard@example.org", "Permanent"), {"applied": 1, "unknown": 0}),
            (ses_bounce("soft@example.org", "Transient"), {"soft_bounces": 1}),
            (ses_complaint("angry@example.org"), {"applied": 1, "unknown": 0}),
            (
                {"notificationType": "Delivery", "delivery": {"recipients": ["fine@example.org"]}},
                {"delivered": 1},
            ),
        ],
        strict=True,
    ):
        data = sns_message(env, json.dumps(payload), version=version)
        response = post_sns(env, data)
        assert response.status_code == 200, response.text
        assert {k: v for k, v in response.json().items() if v} == {
            k: v for k, v in {"applied": 0, "unknown": 0, **expected}.items() if v
        }
    assert env.statuses() == {
        "hard@example.org": "bounced",
        "soft@example.org": "active",
        "angry@example.org": "complained",
        "fine@example.org": "active",
    }
    # The certificate was fetched once, then kept.
    assert env.sns.hits(env.cert_path) == 1


def test_ses_subscription_is_confirmed_through_its_sns_link(env: Env) -> None:
    subscribe = f"{SNS}/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=abc123"
    data = sns_message(
        env,
        "You have chosen to subscribe to the topic ...",
        kind="SubscriptionConfirmation",
        SubscribeURL=subscribe,
        Token="abc123",
    )
    response = post_sns(env, data)
    assert response.status_code == 200, response.text
    assert "confirmed" in response.json()["note"]
    confirm = [r for r in env.sns.requests if r.path.startswith("/?Action=ConfirmSubscription")]
    assert len(confirm) == 1 and "Token=abc123" in confirm[0].path


def test_forged_stale_replayed_or_foreign_sns_reports_change_nothing(env: Env) -> None:
    bounce = json.dumps(ses_bounce("hard@example.org", "Permanent"))
    forged = sns_message(env, bounce, key=OTHER_KEY)
    assert post_sns(env, forged).status_code == 401
    tampered = sns_message(env, json.dumps(ses_bounce("soft@example.org", "Transient")))
    tampered["Message"] = bounce  # signed for a soft bounce, now says a hard one
    assert post_sns(env, tampered).status_code == 401
    stale = sns_message(env, bounce, at=time.time() - 7200)
    assert post_sns(env, stale).status_code == 400
    other_topic = "arn:aws:sns:eu-west-1:999999999999:attacker-topic"
    foreign = sns_message(env, bounce, topic=other_topic)
    assert post_sns(env, foreign).status_code == 403
    # A certificate anywhere but SNS's host in the topic's region is never fetched.
    for url in (
        f"{env.sns.url}{env.cert_path}",
        f"https://sns.eu-west-1.amazonaws.com.attacker.example{env.cert_path}",
        f"https://sns.us-east-1.amazonaws.com{env.cert_path}",
        f"http://sns.eu-west-1.amazonaws.com{env.cert_path}",
    ):
        response = post_sns(env, sns_message(env, bounce, cert_url=url))
        assert response.status_code == 403, url
    assert env.sns.hits(env.cert_path) <= 1  # only for the forged ones above, signed by SNS's
    assert env.statuses()["hard@example.org"] == "active"

    genuine = sns_message(env, bounce)
    assert post_sns(env, genuine).status_code == 200
    with State(env.root / "state.db") as state:
        Subscribers(state).set_status(Subscribers(state).get("hard@example.org").id, "active")  # type: ignore[union-attr]
    replayed = post_sns(env, genuine)
    assert replayed.status_code == 409
    assert env.status("hard@example.org") == "active"


def test_raw_sns_delivery_needs_basic_authentication(env: Env) -> None:
    raw = ses_bounce("hard@example.org", "Permanent")
    headers = {"x-amz-sns-topic-arn": TOPIC, "x-amz-sns-rawdelivery": "true"}
    unsigned = env.client.post("/webhooks/ses", content=json.dumps(raw), headers=headers)
    assert unsigned.status_code == 401
    wrong = env.client.post(
        "/webhooks/ses-raw", content=json.dumps(raw), headers=headers, auth=("sns", "guess")
    )
    assert wrong.status_code == 401
    assert env.status("hard@example.org") == "active"
    good = env.client.post(
        "/webhooks/ses-raw", content=json.dumps(raw), headers=headers, auth=("sns", SNS_PASSWORD)
    )
    assert good.status_code == 200, good.text
    assert env.status("hard@example.org") == "bounced"
    again = env.client.post(
        "/webhooks/ses-raw", content=json.dumps(raw), headers=headers, auth=("sns", SNS_PASSWORD)
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    "url",
    [
        "https://sns.eu-west-1.amazonaws.com.attacker.example/c.pem",
        "https://attacker.example/sns.eu-west-1.amazonaws.com/c.pem",
        "https://sns.eu-west-1.amazonaws.com@attacker.example/c.pem",
        "https://x:y@sns.eu-west-1.amazonaws.com/c.pem",
        "https://sns.eu-west-1.amazonaws.com:8443/c.pem",
        "http://sns.eu-west-1.amazonaws.com/c.pem",
        "https://sns.eu-west-1.amazonaws.com/c.txt",
        "https://sns.us-east-1.amazonaws.com/c.pem",
        "https://snsXeu-west-1.amazonaws.com/c.pem",
        "https://127.0.0.1/c.pem",
    ],
)
def test_sns_certificates_come_only_from_sns_own_host(url: str) -> None:
    with pytest.raises(Refused) as caught:
        sns_url(url, "eu-west-1", certificate=True)
    assert caught.value.status == 403
    assert sns_url(f"{SNS}/SimpleNotificationService-1.pem", "eu-west-1", certificate=True)
    assert sns_url("https://sns.cn-north-1.amazonaws.com.cn/a.pem", "cn-north-1", certificate=True)


# -- Mailgun --------------------------------------------------------------------------------------


def mailgun_event(
    address: str,
    event: str,
    severity: str = "",
    *,
    at: float | None = None,
    key: str = MAILGUN_KEY,
    token: str | None = None,
) -> dict[str, Any]:
    stamp = str(int(time.time() if at is None else at))
    token = token or uuid.uuid4().hex * 2
    signature = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    data: dict[str, Any] = {
        "event": event,
        "recipient": address,
        "timestamp": float(stamp),
        "id": uuid.uuid4().hex,
    }
    if severity:
        data["severity"] = severity
        data["delivery-status"] = {
            "code": 550,
            "message": "5.1.1 no such user",
            "description": "no such user",
        }
    return {
        "signature": {"timestamp": stamp, "token": token, "signature": signature},
        "event-data": data,
    }


def test_mailgun_events_verified_by_hmac(env: Env) -> None:
    post = env.client.post
    assert (
        post(
            "/webhooks/mailgun", json=mailgun_event("hard@example.org", "failed", "permanent")
        ).status_code
        == 200
    )
    soft = post("/webhooks/mailgun", json=mailgun_event("soft@example.org", "failed", "temporary"))
    assert soft.json() == {"applied": 0, "unknown": 0, "soft_bounces": 1}
    assert (
        post("/webhooks/mailgun", json=mailgun_event("angry@example.org", "complained")).status_code
        == 200
    )
    assert env.status("hard@example.org") == "bounced"
    assert env.status("soft@example.org") == "active"
    assert env.status("angry@example.org") == "complained"
    assert env.statuses()["hard@example.org"] == "bounced"

    forged = mailgun_event("fine@example.org", "unsubscribed", key="key-guessed")
    assert post("/webhooks/mailgun", json=forged).status_code == 401
    stale = mailgun_event("fine@example.org", "unsubscribed", at=time.time() - 3600)
    assert post("/webhooks/mailgun", json=stale).status_code == 400
    unsigned = mailgun_event("fine@example.org", "unsubscribed")
    del unsigned["signature"]
    assert post("/webhooks/mailgun", json=unsigned).status_code == 401
    assert env.status("fine@example.org") == "active"
    first = mailgun_event("fine@example.org", "delivered", token="t" * 50)
    assert post("/webhooks/mailgun", json=first).status_code == 200
    replay = mailgun_event("fine@example.org", "unsubscribed", token="t" * 50)
    assert post("/webhooks/mailgun", json=replay).status_code == 409
    assert env.status("fine@example.org") == "active"


# -- Postmark -------------------------------------------------------------------------------------


def postmark_bounce(
    address: str,
    bounce_type: str,
    *,
    inactive: bool,
    at: float | None = None,
    record_id: int | None = None,
) -> dict[str, Any]:
    return {
        "RecordType": "Bounce",
        "ID": record_id or int(uuid.uuid4().int % 10**12),
        "Type": bounce_type,
        "TypeCode": 1 if bounce_type == "HardBounce" else 4096,
        "Name": bounce_type,
        "MessageID": str(uuid.uuid4()),
        "MessageStream": "broadcast",
        "Description": "The server was unable to deliver your message",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": address,
        "From": "briefing@example.org",
        "BouncedAt": _iso(time.time() if at is None else at),
        "Inactive": inactive,
        "CanActivate": True,
    }


def test_postmark_bounce_types_behind_basic_auth(env: Env) -> None:
    def post(body: dict[str, Any], password: str = POSTMARK_PASSWORD) -> Any:
        return env.client.post("/webhooks/postmark", json=body, auth=("postmark", password))

    assert post(postmark_bounce("hard@example.org", "HardBounce", inactive=True)).status_code == 200
    soft = post(postmark_bounce("soft@example.org", "SoftBounce", inactive=False))
    assert soft.json()["soft_bounces"] == 1
    complaint = {
        "RecordType": "SpamComplaint",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Email": "angry@example.org",
        "BouncedAt": _iso(time.time()),
        "Inactive": True,
    }
    assert post(complaint).status_code == 200
    assert env.statuses() == {
        "hard@example.org": "bounced",
        "soft@example.org": "active",
        "angry@example.org": "complained",
        "fine@example.org": "active",
    }
    fine = postmark_bounce("fine@example.org", "HardBounce", inactive=True, record_id=7)
    assert post(fine, password="guess").status_code == 401
    assert env.client.post("/webhooks/postmark", json=fine).status_code == 401
    stale = postmark_bounce(
        "fine@example.org", "HardBounce", inactive=True, at=time.time() - 2 * 86400
    )
    assert post(stale).status_code == 400
    assert env.status("fine@example.org") == "active"
    delivered = {
        "RecordType": "Delivery",
        "ID": 7,
        "Recipient": "fine@example.org",
        "DeliveredAt": _iso(time.time()),
    }
    assert post(delivered).json()["delivered"] == 1
    assert post(fine).status_code == 200
    assert env.status("fine@example.org") == "bounced"
    assert post(fine).status_code == 409


# -- SendGrid -------------------------------------------------------------------------------------


def sendgrid_post(
    env: Env,
    events: list[dict[str, Any]],
    *,
    at: float | None = None,
    key: ec.EllipticCurvePrivateKey = SENDGRID_KEY,
) -> Any:
    body = json.dumps(events).encode()
    stamp = str(int(time.time() if at is None else at))
    signature = key.sign(stamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return env.client.post(
        "/webhooks/sendgrid",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": stamp,
        },
    )


def sendgrid_event(address: str, event: str, **extra: Any) -> dict[str, Any]:
    return {
        "email": address,
        "timestamp": int(time.time()),
        "event": event,
        "sg_event_id": base64.b64encode(uuid.uuid4().bytes).decode(),
        "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        **extra,
    }


def test_sendgrid_signed_event_webhook(env: Env) -> None:
    events = [
        sendgrid_event(
            "hard@example.org",
            "bounce",
            type="bounce",
            reason="550 5.1.1 The email account does not exist",
            status="5.1.1",
        ),
        sendgrid_event("soft@example.org", "bounce", type="blocked", reason="421 try later"),
        sendgrid_event("angry@example.org", "spamreport"),
        sendgrid_event("fine@example.org", "processed"),
    ]
    response = sendgrid_post(env, events)
    assert response.status_code == 200, response.text
    assert response.json() == {"applied": 2, "unknown": 0, "soft_bounces": 1}
    assert env.statuses() == {
        "hard@example.org": "bounced",
        "soft@example.org": "active",
        "angry@example.org": "complained",
        "fine@example.org": "active",
    }
    unsubscribe = [sendgrid_event("fine@example.org", "unsubscribe")]
    assert (
        sendgrid_post(env, unsubscribe, key=ec.generate_private_key(ec.SECP256R1())).status_code
        == 401
    )
    assert sendgrid_post(env, unsubscribe, at=time.time() - 3600).status_code == 400
    assert env.status("fine@example.org") == "active"
    assert sendgrid_post(env, unsubscribe).status_code == 200
    assert env.status("fine@example.org") == "unsubscribed"
    assert sendgrid_post(env, unsubscribe).status_code == 409


# -- configuration --------------------------------------------------------------------------------


def test_a_webhook_name_must_be_free_and_path_safe(tmp_path: Path) -> None:
    head = (
        '[newsletter]\ntitle = "B"\n'
        '[[sources]]\nname = "n"\nplugin = "news"\nfeeds = ["http://127.0.0.1:9/x"]\n'
    )
    for table, problem in (
        (f'[[feedback]]\nplugin = "ses"\nname = "events"\ntopic_arns = ["{TOPIC}"]\n', "taken"),
        (f'[[feedback]]\nplugin = "ses"\nname = "../x"\ntopic_arns = ["{TOPIC}"]\n', "lower-case"),
        ('[[feedback]]\nplugin = "ses"\ntopic_arns = ["arn:aws:s3:::bucket"]\n', "topic ARN"),
        ('[[feedback]]\nplugin = "mailgun"\nsigning_key = "literal"\n', "secrets cannot"),
    ):
        (tmp_path / "newsroom.toml").write_text(head + table, "utf-8")
        with pytest.raises(ConfigError) as caught:
            open_newsletter(tmp_path / "newsroom.toml")
        assert problem in str(caught.value)


def test_an_unknown_webhook_is_404(env: Env) -> None:
    assert env.client.post("/webhooks/nothing", json={}).status_code == 404


def test_the_hook_reference_example_receives_reports(tmp_path: Path, monkeypatch: Any) -> None:
    """The register_feedback example in docs/hooks.md, as a plugins folder file, served."""
    import re

    docs = (Path(__file__).resolve().parent.parent / "docs" / "hooks.md").read_text("utf-8")
    (example,) = [
        block
        for block in re.findall(r"```python\n(.*?)```", docs, re.S)
        if "register_feedback" in block
    ]
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "example_esp.py").write_text(example, "utf-8")
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", "test-signing-key-0123456789abcdefghijkl")
    monkeypatch.setenv("EXAMPLE_ESP_SECRET", "example-secret")
    (tmp_path / "newsroom.toml").write_text(
        '[newsletter]\ntitle = "Briefing"\n'
        '[[sources]]\nname = "n"\nplugin = "news"\nfeeds = ["http://127.0.0.1:9/x"]\n'
        '[email]\nfrom = "Briefing <briefing@example.org>"\n'
        '[subscriptions]\nurl = "http://127.0.0.1:8025/"\n'
        '[plugins]\nplugins_dir = "plugins"\n'
        '[[feedback]]\nplugin = "example-esp"\nsecret = { "$env" = "EXAMPLE_ESP_SECRET" }\n',
        "utf-8",
    )
    newsletter = open_newsletter(tmp_path / "newsroom.toml")
    with State(newsletter.config.state_path) as state:
        Subscribers(state).add("hard@example.org", status="active")
    body = json.dumps([{"id": "r1", "type": "hard_bounce", "recipient": "hard@example.org"}])
    stamp = str(int(time.time()))

    def post(secret: str) -> Any:
        signature = hmac.new(secret.encode(), f"{stamp}.{body}".encode(), hashlib.sha256)
        headers = {"X-Timestamp": stamp, "X-Signature": signature.hexdigest()}
        return client.post("/webhooks/example-esp", content=body, headers=headers)

    with TestClient(create_app(newsletter)) as client:
        assert post("guessed").status_code == 401
        assert post("example-secret").json() == {"applied": 1, "unknown": 0}
        assert post("example-secret").status_code == 409
    with State(newsletter.config.state_path) as state:
        assert Subscribers(state).get("hard@example.org").status == "bounced"  # type: ignore[union-attr]
