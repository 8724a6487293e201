"""The ``ses`` transport: Amazon SES v2 through botocore.

The SES API is played by moto's server mode (``moto.server.ThreadedMotoServer``), a local
stand-in for AWS that speaks the SES v2 and SES APIs, on 127.0.0.1 in this process; botocore
is pointed at it with ``endpoint_url`` and signs with dummy credentials from the
environment. Throttling and a missing answer, which the stand-in cannot play, are played by
a local HTTP server answering SES v2's ``SendEmail`` as its API reference documents it.
"""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import signal
import socket
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import EDITION, newsroom_cli
from test_send import add_subscribers, statuses
from test_send_crash import in_flight, no_live_workers, start_send

from newsroom.config.newsletter import open_newsletter
from newsroom.deliver.delivery import send_edition
from newsroom.deliver.sending import SendSettings
from newsroom.testing import LocalServer

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's account for any credentials


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SesStandIn:
    """moto's server mode on 127.0.0.1: the SES API, with what it was sent."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def client(self, service: str = "sesv2"):  # type: ignore[no-untyped-def]
        import botocore.session

        return botocore.session.get_session().create_client(
            service, region_name=REGION, endpoint_url=self.url
        )

    @property
    def sent(self) -> list[tuple[str, str]]:
        """(recipient, raw message) of every message SES took, in order; the recipient is
        the call's (the stand-in adds the message's own To after it)."""
        from moto.backends import get_backend

        backend = get_backend("ses")[ACCOUNT][REGION]
        return [(m.destinations[0], m.raw_data) for m in backend.sent_messages]

    def count(self, address: str) -> int:
        return sum(address == recipient for recipient, _ in self.sent)


@pytest.fixture
def ses(monkeypatch: pytest.MonkeyPatch) -> Iterator[SesStandIn]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret-key")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    stand_in = SesStandIn()
    stand_in.server.start()
    try:
        import urllib.request

        urllib.request.urlopen(
            urllib.request.Request(f"{stand_in.url}/moto-api/reset", method="POST"), timeout=10
        ).read()
        stand_in.client().create_email_identity(EmailIdentity="example.org")
        yield stand_in
    finally:
        stand_in.server.stop()


def use_ses(config: Path, url: str, **options: object) -> None:
    text = config.read_text("utf-8")
    head, _, _ = text.partition("[transport]")
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in options.items())
    config.write_text(
        head
        + f'[transport]\nplugin = "ses"\nregion = "{REGION}"\nendpoint_url = "{url}"\n'
        + extra,
        "utf-8",
    )


def test_ses_sends_each_raw_message_once(newsletter: Path, ses: SesStandIn) -> None:
    addresses = add_subscribers(newsletter, 40)
    use_ses(newsletter, ses.url, use_quota=False)
    config = open_newsletter(newsletter).config
    report = send_edition(config, EDITION, SendSettings(backoff=0.01, workers=1))
    assert report.counts.sent == 40 and report.complete
    assert Counter(recipient for recipient, _ in ses.sent) == Counter(addresses)
    # The raw message as newsroom built it: our headers, our Message-ID.
    recipient, raw = ses.sent[0]
    message = email.message_from_string(raw, policy=email.policy.default)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith("<http")
    assert message["Message-ID"].endswith("@example.org>") and recipient in message["To"]
    again = send_edition(config, EDITION, SendSettings(backoff=0.01, workers=1))
    assert again.queued == 0 and len(ses.sent) == 40
    assert set(statuses(newsletter).values()) == {"sent"}


def test_the_accounts_quota_limits_the_run(newsletter: Path, ses: SesStandIn) -> None:
    v1 = ses.client("ses")
    for n in range(196):  # the stand-in's account may send 200 a day, at 1 a second
        v1.send_raw_email(
            RawMessage={"Data": b"From: x@example.org\r\nSubject: earlier\r\n\r\nhi"},
            Destinations=[f"earlier{n}@example.org"],
        )
    addresses = add_subscribers(newsletter, 6)
    use_ses(newsletter, ses.url)
    result = newsroom_cli(newsletter, "send")
    assert result.returncode != 0  # incomplete: two wait for tomorrow's quota
    assert "at most 1 messages a second, at most 4 messages in this run" in result.stdout
    assert sum(ses.count(a) for a in addresses) == 4
    assert Counter(statuses(newsletter).values()) == {"sent": 4, "queued": 2}


@pytest.mark.slow
def test_sigkill_then_resume_sends_everyone_once(newsletter: Path, ses: SesStandIn) -> None:
    addresses = add_subscribers(newsletter, 300)
    use_ses(newsletter, ses.url, use_quota=False)
    may_repeat: set[str] = set()
    for threshold in (60, 180):
        proc = start_send(newsletter)
        deadline = time.monotonic() + 120
        while len(ses.sent) < threshold:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the send made no progress"
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        no_live_workers(newsletter)
        may_repeat |= in_flight(newsletter)
    final = newsroom_cli(newsletter, "send")
    assert final.returncode == 0, final.stderr
    counts = {a: ses.count(a) for a in addresses}
    assert min(counts.values()) == 1, "a subscriber was missed"
    assert {a for a, n in counts.items() if n > 1} <= may_repeat
    assert set(statuses(newsletter).values()) == {"sent"}


def test_throttling_is_botocores_to_retry_then_a_temporary_failure(
    newsletter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret-key")
    addresses = add_subscribers(newsletter, 6)
    throttled_twice, always, slow = addresses[1], addresses[2], addresses[3]
    calls: Counter[str] = Counter()
    taken: list[str] = []

    def send_email(
        request: http.server.BaseHTTPRequestHandler, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        assert request.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
        to = json.loads(body)["Destination"]["ToAddresses"][0]
        calls[to] += 1
        if to == always or (to == throttled_twice and calls[to] <= 2):
            error = {"x-amzn-ErrorType": "TooManyRequestsException"}
            return 429, error, b'{"message": "Maximum sending rate exceeded."}'
        taken.append(to)
        if to == slow:
            time.sleep(1.5)
        return 200, {"Content-Type": "application/json"}, b'{"MessageId": "0100-abc"}'

    with LocalServer() as server:
        server.add("/v2/email/outbound-emails", handler=send_email)
        use_ses(newsletter, server.url, use_quota=False, timeout=1, max_attempts=3)
        config = open_newsletter(newsletter).config
        report = send_edition(config, EDITION, SendSettings(backoff=0.01, retries=1, workers=1))
    assert calls[throttled_twice] == 3 and throttled_twice in taken  # botocore's retries
    assert calls[always] == 6  # two runs of botocore's three, then the sender gave up
    assert calls[slow] == 1  # sent whole, never answered: not sent a second time
    assert report.counts.sent == 4 and report.counts.uncertain == 1
    assert statuses(newsletter)[always] == "failed"
    assert statuses(newsletter)[slow] == "uncertain"
