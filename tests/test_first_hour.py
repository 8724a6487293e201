"""A newcomer's first hour as the README has it: a newsletter from `newsroom init`, built,
a test copy sent to `newsroom dev-smtp` on this machine, and `newsroom preview` showing what
arrived; with no file edited by hand."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import select
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import EDITION, SECRET, newsroom_cli, point_at

from newsroom.config.newsletter import open_newsletter
from newsroom.config.starter import EXAMPLE_AS_OF
from newsroom.render.preview import PreviewServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DevSmtp:
    """`newsroom dev-smtp` running in a process of its own, its output read as it comes."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "newsroom", "dev-smtp", *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.output = ""
        self.wait_for("Receiving mail at")

    def wait_for(self, text: str, timeout: float = 30) -> str:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while text not in self.output and time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                self.output += chunk.decode("utf-8", "replace")
        assert text in self.output, self.output
        return self.output

    def stop(self) -> str:
        self.proc.terminate()
        rest, _ = self.proc.communicate(timeout=30)
        return self.output + rest.decode("utf-8", "replace")


@pytest.fixture
def briefing(tmp_path: Path) -> Path:
    """`newsroom init --example ai-briefing`, built offline as `init` says to."""
    init = subprocess.run(
        [sys.executable, "-m", "newsroom", "init", "briefing", "--example", "ai-briefing"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert init.returncode == 0, init.stderr
    folder = tmp_path / "briefing"
    build = subprocess.run(
        [sys.executable, "-m", "newsroom", "build", "--mirror", "sample-data"]
        + ["--now", EXAMPLE_AS_OF["ai-briefing"]],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    # The demo's stand-in model runs only with the demo: the copy has the llm table
    # commented out, with what to do, and builds without a warning about it.
    config = (folder / "newsroom.toml").read_text("utf-8")
    assert '# plugin = "llm"' in config and "`llm models`" in config
    assert "llm" not in build.stderr
    return folder


def subject_of(folder: Path) -> str:
    """The subject of the built example edition."""
    edition = folder / "build" / "editions" / EXAMPLE_AS_OF["ai-briefing"][:10] / "edition.json"
    return str(json.loads(edition.read_text("utf-8"))["subject"])


def get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode("utf-8")


def test_a_test_copy_reaches_dev_smtp_and_the_preview_shows_it(briefing: Path) -> None:
    # The example sends to 127.0.0.1:2525, dev-smtp's port; the test takes a free port so
    # that it never meets another process there.
    port = free_port()
    point_at(briefing / "newsroom.toml", port)
    server = DevSmtp(briefing, "--port", str(port))
    try:
        sent = subprocess.run(
            [sys.executable, "-m", "newsroom", "send", "--to", "editor@example.org"],
            cwd=briefing,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert sent.returncode == 0, sent.stderr
        output = server.wait_for(".eml")
    finally:
        output = server.stop()
    mailbox = briefing / "build" / "dev-mail"
    (kept,) = sorted(mailbox.glob("*.eml"))
    assert kept.name == "000001.eml"
    message = email.message_from_bytes(kept.read_bytes(), policy=email.policy.default)
    subject = subject_of(briefing)
    assert subject.startswith("AI 브리핑 · ")  # the lead story's title, not only a date
    assert message["Subject"] == f"[TEST] {subject}"
    assert f"[TEST] {subject}" in output and "to editor@example.org" in output

    # A restart keeps what came before and numbers after it.
    again = DevSmtp(briefing, "--port", str(port))
    try:
        sent = subprocess.run(
            [sys.executable, "-m", "newsroom", "send", "--to", "editor@example.org"],
            cwd=briefing,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert sent.returncode == 0, sent.stderr
        again.wait_for("000002.eml")
    finally:
        again.stop()

    config = open_newsletter(briefing / "newsroom.toml").config
    preview = PreviewServer(config, port=0)
    preview.start()
    try:
        base = preview.url
        status, _, page = get(base)
        assert status == 200 and "Mail received by newsroom dev-smtp" in page
        assert page.count(f"[TEST] {subject_of(briefing)}") == 2
        status, _, page = get(f"{base}_preview/mail/000001")
        assert status == 200 and "editor@example.org" in page and "List-Unsubscribe" in page
        assert 'iframe sandbox title="desktop · light"' in page
        status, headers, body = get(f"{base}_preview/mail/000001/html?scheme=dark")
        assert status == 200 and headers["Content-Security-Policy"] == "sandbox"
        assert "논문 동향" in body
        for bad in ("../newsroom.toml", "000003", "1", "000001/text"):
            assert get(f"{base}_preview/mail/{bad}")[0] in (400, 404), bad
    finally:
        preview.stop()


def test_received_mail_is_not_shown_by_a_preview_open_to_the_network(briefing: Path) -> None:
    mailbox = briefing / "build" / "dev-mail"
    mailbox.mkdir(parents=True)
    (mailbox / "000001.eml").write_bytes(b"Subject: unsubscribe links of a subscriber\r\n\r\nx")
    config = open_newsletter(briefing / "newsroom.toml").config
    preview = PreviewServer(config, host="0.0.0.0", port=0)
    preview.start()
    try:
        port = preview.httpd.server_address[1]
        status, _, page = get(f"http://127.0.0.1:{port}/")
        assert status == 200 and "unsubscribe links of a subscriber" not in page
        status, _, text = get(f"http://127.0.0.1:{port}/_preview/mail/000001")
        assert status == 404 and "only when the preview listens on 127.0.0.1" in text
    finally:
        preview.stop()


def test_a_test_copy_before_the_newsletter_has_a_public_address(newsletter: Path) -> None:
    """A new newsletter has no base_url yet: its test copy links to `newsroom serve` on this
    machine, and says so; the send to the list stays refused."""
    from newsroom.dev.smtpsink import SmtpSink

    text = newsletter.read_text("utf-8")
    newsletter.write_text(re.sub(r"(?m)^base_url = .*$", 'base_url = ""', text), "utf-8")
    with SmtpSink() as sink:
        point_at(newsletter, sink.port)
        copy = newsroom_cli(newsletter, "send", "--to", "editor@example.org")
        assert copy.returncode == 0, copy.stderr
        assert (
            "its unsubscribe and preferences links lead to `newsroom serve` on this machine "
            "(http://127.0.0.1:8025/)" in copy.stderr
        )
        message = sink.messages[0].parsed()
        assert message["List-Unsubscribe"].startswith("<http://127.0.0.1:8025/unsubscribe/")
        everyone = newsroom_cli(newsletter, "send")
        assert everyone.returncode == 3 and "[subscriptions] url" in everyone.stderr
        assert sink.total == 1


def test_a_test_copy_with_nothing_listening_says_how_to_try_mail_locally(
    newsletter: Path,
) -> None:
    port = free_port()
    point_at(newsletter, port)
    result = newsroom_cli(newsletter, "send", "--to", "editor@example.org")
    assert result.returncode == 6, result.stderr
    assert f"run `newsroom dev-smtp --port {port}` in another terminal" in result.stderr


def test_dev_smtp_says_when_its_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "newsroom", "dev-smtp", "--port", str(port)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "NEWSROOM_SECRET_KEY": SECRET},
        )
    assert result.returncode == 2, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "--port N" in result.stderr


def test_the_edition_can_be_sent_after_the_test_copy(newsletter: Path) -> None:
    """The test copy neither enters the log nor changes what the list gets."""
    from newsroom.dev.smtpsink import SmtpSink

    with SmtpSink() as sink:
        point_at(newsletter, sink.port)
        assert newsroom_cli(newsletter, "send", "--to", "editor@example.org").returncode == 0
        assert newsroom_cli(newsletter, "subscribers", "add", "a@example.com").returncode == 0
        assert newsroom_cli(newsletter, "send", EDITION).returncode == 0
    subjects = [m.parsed()["Subject"] for m in sink.messages]
    subject = subject_of(newsletter.parent)
    assert subjects == [f"[TEST] {subject}", subject]
