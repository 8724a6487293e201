"""STARTTLS, implicit TLS and AUTH against a real SMTP server on loopback."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest
from conftest import newsroom_cli, point_at, require_tool
from test_send import add_subscribers

from newsroom.dev.smtpsink import SmtpSink


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the key and the certificate)."""
    openssl = require_tool("openssl")
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return key, cert


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate[1]), str(certificate[0]))
    return context


def use_tls(config: Path, security: str, cert: Path, username: str = "") -> None:
    text = config.read_text("utf-8").replace(
        'security = "none"', f'security = "{security}"\nca_file = "{cert}"'
    )
    if username:
        text = text.replace(f'ca_file = "{cert}"', f'ca_file = "{cert}"\nusername = "{username}"')
    config.write_text(text, "utf-8")


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_tls_with_a_login_whose_password_comes_from_the_environment(
    newsletter: Path, certificate: tuple[Path, Path], security: str
) -> None:
    addresses = add_subscribers(newsletter, 5)
    context = server_context(certificate)
    tls = {"starttls": context} if security == "starttls" else {"implicit_tls": context}
    with SmtpSink(users={"briefing": "s3cret-pass"}, **tls) as sink:  # type: ignore[arg-type]
        point_at(newsletter, sink.port)
        use_tls(newsletter, security, certificate[1], username="briefing")
        missing = newsroom_cli(newsletter, "send")
        assert missing.returncode == 6
        assert "needs a password: set NEWSROOM_SMTP_PASSWORD" in missing.stderr
        wrong = newsroom_cli(newsletter, "send", env={"NEWSROOM_SMTP_PASSWORD": "nope-nope"})
        assert wrong.returncode == 6
        assert "refused the login for 'briefing'" in wrong.stderr
        assert "nope-nope" not in wrong.stderr + wrong.stdout
        right = newsroom_cli(newsletter, "send", env={"NEWSROOM_SMTP_PASSWORD": "s3cret-pass"})
        assert right.returncode == 0, right.stderr
        assert "s3cret-pass" not in right.stderr + right.stdout
    assert {a: sink.count(a) for a in addresses} == {a: 1 for a in addresses}


def test_starttls_required_but_not_offered_refuses_to_send_in_clear(
    newsletter: Path, certificate: tuple[Path, Path]
) -> None:
    add_subscribers(newsletter, 2)
    with SmtpSink() as sink:  # no STARTTLS on offer
        point_at(newsletter, sink.port)
        use_tls(newsletter, "starttls", certificate[1])
        result = newsroom_cli(newsletter, "send")
    assert result.returncode == 6
    assert sink.total == 0
    assert "STARTTLS" in result.stderr or "starttls" in result.stderr.lower()


def test_an_untrusted_certificate_is_refused(
    newsletter: Path, certificate: tuple[Path, Path]
) -> None:
    add_subscribers(newsletter, 2)
    with SmtpSink(starttls=server_context(certificate)) as sink:
        point_at(newsletter, sink.port)
        text = newsletter.read_text("utf-8").replace('security = "none"', 'security = "starttls"')
        newsletter.write_text(text, "utf-8")  # no ca_file: the self-signed one is not trusted
        result = newsroom_cli(newsletter, "send")
    assert result.returncode == 6 and sink.total == 0
    assert "certificate" in result.stderr.lower()
