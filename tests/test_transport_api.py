"""The seam where a large list hands delivery to an email service: a transport plugin.

The transport is the one in docs/hooks.md (an HTTP sending API), loaded as a third-party
plugin; the service is a real HTTP server on 127.0.0.1. Nothing else in the pipeline
changes: the same delivery log, retries, bounces and resume.
"""

from __future__ import annotations

import email
import email.policy
import http.server
import re
import time
import types
from pathlib import Path

import pytest
from conftest import EDITION, ROOT
from test_send import add_subscribers, statuses

from newsroom.config.newsletter import open_newsletter
from newsroom.core.plugins import load_plugins
from newsroom.deliver.delivery import send_edition
from newsroom.deliver.sending import SendSettings
from newsroom.deliver.subscribers import Subscribers
from newsroom.store.state import State
from newsroom.testing import LocalServer


def api_transport_plugin() -> types.ModuleType:
    text = (ROOT / "docs" / "hooks.md").read_text("utf-8")
    section = text.split("## register_transports(register)", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    module = types.ModuleType("newsroom_http_api")
    exec(compile(code.group(1), "docs/hooks.md", "exec", dont_inherit=True), module.__dict__)
    return module


@pytest.fixture
def api_newsletter(newsletter: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAIL_API_TOKEN", "api-token-123")
    text = newsletter.read_text("utf-8")
    head, _, _ = text.partition("[transport]")
    newsletter.write_text(
        head
        + '[transport]\nplugin = "http-api"\nurl = "URL"\n'
        + 'token = { "$env" = "MAIL_API_TOKEN" }\ntimeout = 1\n',
        "utf-8",
    )
    return newsletter


def test_an_http_sending_api_takes_over_delivery(api_newsletter: Path) -> None:
    addresses = add_subscribers(api_newsletter, 40)
    refused = addresses[5]
    busy_once = {addresses[9], addresses[17]}
    slow = addresses[23]  # taken, but answered after the client gave up
    seen: dict[str, int] = {}
    accepted: list[bytes] = []

    def api(
        request: http.server.BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        assert request.headers["Authorization"] == "Bearer api-token-123"
        assert request.headers["Content-Type"] == "message/rfc822"
        to = request.headers["X-Envelope-To"]
        seen[to] = seen.get(to, 0) + 1
        if to == refused:
            return 422, {}, b"invalid recipient"
        if to in busy_once and seen[to] == 1:
            return 503, {}, b"busy"
        accepted.append(body)
        if to == slow:
            time.sleep(2)
        return 202, {}, b"{}"

    with LocalServer() as server:
        url = server.url + "/v1/messages"
        server.add("/v1/messages", handler=api)
        api_newsletter.write_text(
            api_newsletter.read_text("utf-8").replace('url = "URL"', f'url = "{url}"'), "utf-8"
        )
        plugins = load_plugins()
        plugins.add(api_transport_plugin(), "newsroom_http_api", package="newsroom-http-api")
        config = open_newsletter(api_newsletter, plugins).config
        report = send_edition(config, EDITION, SendSettings(backoff=0.01, workers=1))

    assert report.counts.sent == len(accepted) - 1 == 38
    assert report.counts.bounced == 1 and report.counts.retried == 2
    # The slow answer: recorded as uncertain and never sent again on its own.
    assert report.counts.uncertain == 1 and seen[slow] == 1
    assert statuses(api_newsletter)[slow] == "uncertain"
    assert sorted(seen) == sorted(addresses)
    message = email.message_from_bytes(accepted[0], policy=email.policy.default)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert statuses(api_newsletter)[refused] == "bounced"
    with State(api_newsletter.parent / "state.db") as state:
        sub = Subscribers(state).get(refused)
    assert sub is not None and sub.status == "bounced" and "invalid recipient" in sub.reason
