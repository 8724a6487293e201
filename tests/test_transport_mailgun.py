"""The ``mailgun`` transport against a local HTTP server on 127.0.0.1 that answers Mailgun's
``POST /v3/<domain>/messages.mime`` as its API reference documents it (basic
authentication as ``api``, a multipart form with ``to`` and the MIME ``message``)."""

from __future__ import annotations

import base64
import email
import email.policy
import http.server
import re
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import EDITION
from test_send import add_subscribers, statuses

from newsroom.config.newsletter import open_newsletter
from newsroom.deliver.delivery import send_edition
from newsroom.deliver.sending import SendSettings
from newsroom.testing import LocalServer

KEY = "key-mailgun-api-0123456789"
PATH = "/v3/mg.example.org/messages.mime"


def use_mailgun(config: Path, url: str) -> None:
    head, _, _ = config.read_text("utf-8").partition("[transport]")
    config.write_text(
        head + '[transport]\nplugin = "mailgun"\ndomain = "mg.example.org"\n'
        f'api_key = {{ "$env" = "MAILGUN_API_KEY" }}\nbase_url = "{url}"\ntimeout = 1\n',
        "utf-8",
    )


def form_fields(request: http.server.BaseHTTPRequestHandler, body: bytes) -> dict[str, bytes]:
    """The fields of a multipart/form-data body, each as the bytes that were sent."""
    boundary = re.search(r'boundary="?([^";]+)', request.headers["Content-Type"])
    assert boundary is not None
    fields = {}
    for part in body.split(b"--" + boundary.group(1).encode())[1:-1]:
        head, _, content = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head)
        assert name is not None
        fields[name.group(1).decode()] = content.removesuffix(b"\r\n")
    return fields


def test_mailgun_sends_mime_messages_once(
    newsletter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILGUN_API_KEY", KEY)
    addresses = add_subscribers(newsletter, 12)
    refused, busy_once, slow = addresses[2], addresses[5], addresses[8]
    calls: Counter[str] = Counter()
    messages: dict[str, bytes] = {}

    def api(
        request: http.server.BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        expected = "Basic " + base64.b64encode(f"api:{KEY}".encode()).decode()
        if request.headers["Authorization"] != expected:
            return 401, {}, b"Forbidden"
        fields = form_fields(request, body)
        to = fields["to"].decode()
        calls[to] += 1
        if to == refused:
            return 400, {}, b'{"message": "to parameter is not a valid address"}'
        if to == busy_once and calls[to] == 1:
            return 429, {}, b'{"message": "Too many requests"}'
        messages[to] = fields["message"]
        if to == slow:
            time.sleep(1.5)
        return 200, {}, b'{"id": "<x@mg.example.org>", "message": "Queued. Thank you."}'

    with LocalServer() as server:
        server.add(PATH, handler=api)
        use_mailgun(newsletter, server.url)
        config = open_newsletter(newsletter).config
        report = send_edition(config, EDITION, SendSettings(backoff=0.01, workers=1))
        again = send_edition(config, EDITION, SendSettings(backoff=0.01, workers=1))
    assert report.counts.sent == 10 and report.counts.bounced == 1
    assert report.counts.retried == 1 and report.counts.uncertain == 1
    assert again.queued == 0
    assert all(calls[a] == 1 for a in addresses if a != busy_once) and calls[busy_once] == 2
    assert statuses(newsletter)[refused] == "bounced" and statuses(newsletter)[slow] == "uncertain"
    sent = email.message_from_bytes(messages[addresses[0]], policy=email.policy.default)
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert addresses[0] in sent["To"]


def test_a_refused_api_key_stops_the_send(
    newsletter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILGUN_API_KEY", "key-wrong")
    add_subscribers(newsletter, 30)
    with LocalServer() as server:
        server.add(PATH, "Forbidden", status=401)
        use_mailgun(newsletter, server.url)
        config = open_newsletter(newsletter).config
        report = send_edition(config, EDITION, SendSettings(backoff=0.01, workers=1))
        tries = server.hits(PATH)
    assert report.stopped and "401" in report.stopped
    assert report.counts.sent == 0 and tries < 30
    assert set(statuses(newsletter).values()) <= {"queued", "failed"}
