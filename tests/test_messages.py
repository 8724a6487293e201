"""Messages as receivers parse them: one rendered edition, personalised per subscriber."""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
from conftest import EDITION, SECRET, newsroom_cli, require_tool

from newsroom.config.newsletter import open_newsletter
from newsroom.deliver.delivery import edition_message
from newsroom.deliver.messages import (
    MAX_LINE,
    EditionMessage,
    Recipient,
    Sender,
    fold_html,
    make_sender,
)
from newsroom.deliver.tokens import Signer
from newsroom.render.rendering import placeholder

#: The placeholder key of the bodies these tests write by hand.
KEY = "0123456789abcdef" * 2

SENDER = Sender(
    from_header="=?utf-8?b?7JWE?= <briefing@example.org>",
    address="briefing@example.org",
    domain="example.org",
    list_id="Briefing <briefing.example.org>",
    subscriptions_url="https://example.org/subscription/",
    unsubscribe_mailto="unsubscribe@example.org",
)


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None
    return str(part.get_content())


def lines_fit(data: bytes) -> bool:
    return all(len(line) <= MAX_LINE for line in data.split(b"\r\n"))


def test_a_real_edition_becomes_a_well_formed_korean_message(newsletter: Path) -> None:
    config = open_newsletter(newsletter).config
    message = edition_message(config, EDITION)
    recipient = Recipient("jiwoo.kim@example.com", "김지우", "uid-jiwoo", {"company": "뉴스룸"})
    out = message.build(recipient)
    assert b"\n" not in out.data.replace(b"\r\n", b"")  # CRLF everywhere
    assert lines_fit(out.data)
    parsed = parse(out.data)
    assert parsed["Subject"] == "AI 브리핑 · Skills as Programs 외 27건"
    assert parsed["To"].addresses[0].display_name == "김지우"
    assert parsed["To"].addresses[0].addr_spec == "jiwoo.kim@example.com"
    assert parsed["From"].addresses[0].addr_spec == "briefing@example.org"
    assert parsed["List-Id"].endswith("<ai-briefing.example.org>")
    assert parsed["Message-ID"] == out.message_id
    assert parsed["Date"] and parsed["MIME-Version"] == "1.0"
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    html, text = body(parsed, "html"), body(parsed, "plain")
    assert "논문 동향" in html and "논문 동향" in text
    assert "%%" not in html and "%%" not in text  # every placeholder was filled in

    # RFC 8058 one-click unsubscribe, with a personal signed link. No mailto: nothing reads
    # the mails sent there, so a reader who used it would stay subscribed.
    unsubscribe = parsed["List-Unsubscribe"]
    (https,) = re.findall(r"<([^>]+)>", unsubscribe)
    assert https.startswith("https://example.org/ai-briefing/subscription/unsubscribe/")
    assert "mailto:" not in unsubscribe
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = https.rsplit("/", 1)[1]
    assert Signer([SECRET]).read_subscriber_token(token) == "uid-jiwoo"
    # The visible link in both parts, and the sender's postal address in the footer.
    assert https in html and https in text
    # Long HTML lines are folded at a space, which HTML reads as a space.
    assert config.email.postal_address in " ".join(html.split())
    assert config.email.postal_address in text


def test_each_subscriber_gets_their_own_links_and_a_stable_message_id(newsletter: Path) -> None:
    message = edition_message(open_newsletter(newsletter).config, EDITION)
    a = message.build(Recipient("a@example.com", "A", "uid-a"))
    b = message.build(Recipient("b@example.com", "B", "uid-b"))
    again = message.build(Recipient("a@example.com", "A", "uid-a"))
    assert parse(a.data)["List-Unsubscribe"] != parse(b.data)["List-Unsubscribe"]
    assert a.message_id != b.message_id
    # A copy sent again (after a crash) has the same Message-ID: receivers drop duplicates.
    assert a.message_id == again.message_id


def test_names_and_attributes_are_substituted_and_escaped() -> None:
    name, company = placeholder("subscriber_name", KEY), placeholder("subscriber_attr:company", KEY)
    html = f"<p>안녕하세요 {name}님 ({company})</p>"
    text = f"안녕하세요 {name}님 ({company})\n"
    message = EditionMessage(
        "e1", "제목", html, text, SENDER, Signer([SECRET]), placeholder_key=KEY
    )
    out = parse(
        message.build(Recipient("x@example.com", "<b>김</b> & 이", "u", {"company": "A&B"})).data
    )
    assert "안녕하세요 &lt;b&gt;김&lt;/b&gt; &amp; 이님 (A&amp;B)" in body(out, "html")
    assert "안녕하세요 <b>김</b> & 이님 (A&B)" in body(out, "plain")


def test_no_header_can_be_injected_through_names_or_subjects() -> None:
    evil_name = "Eve\r\nBcc: victim@example.com\r\nX-Evil: 1"
    message = EditionMessage(
        "e1",
        "Today\r\nBcc: all@example.com",
        "<p>hi</p>",
        "hi",
        SENDER,
        Signer([SECRET]),
        placeholder_key=KEY,
    )
    out = message.build(Recipient("x@example.com", evil_name, "u"))
    headers = out.data.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers and b"\r\nX-Evil" not in headers
    parsed = parse(out.data)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert parsed["Subject"] == "Today Bcc: all@example.com"
    assert parsed["To"].addresses[0].display_name == "Eve Bcc: victim@example.com X-Evil: 1"


def test_long_html_lines_are_folded_where_it_means_nothing() -> None:
    words = " ".join(f"단어{i}" for i in range(800))
    html = f'<p style="margin:0; padding:0">{words}</p><pre>keep   this {"x" * 40}</pre>'
    folded = fold_html(html, limit=200)
    assert all(len(line.encode()) <= 200 for line in folded.split("\n")[:-1])
    assert " ".join(folded.split()) == " ".join(html.split())  # only whitespace changed
    assert "<pre>keep   this" in folded


def test_a_line_too_long_to_fold_goes_as_base64() -> None:
    html = "<p>" + "가" * 2000 + "</p>"  # no space anywhere: nothing to break at
    message = EditionMessage("e1", "s", html, "t", SENDER, Signer([SECRET]), placeholder_key=KEY)
    out = message.build(Recipient("x@example.com", "", "u"))
    assert lines_fit(out.data)
    parsed = parse(out.data)
    html_part = parsed.get_body(preferencelist=("html",))
    assert html_part is not None and html_part["Content-Transfer-Encoding"] == "base64"
    assert "가" * 2000 in body(parsed, "html")


def test_seven_bit_messages_for_servers_without_8bitmime(newsletter: Path) -> None:
    message = edition_message(open_newsletter(newsletter).config, EDITION)
    out = message.build(Recipient("a@example.com", "김지우", "uid-a"), eight_bit=False)
    assert out.data.isascii() and lines_fit(out.data)
    assert "논문 동향" in body(parse(out.data), "html")


def test_international_addresses(newsletter: Path) -> None:
    message = edition_message(open_newsletter(newsletter).config, EDITION)
    idn = message.build(Recipient("user@bücher.example", "", "u1"))
    assert idn.envelope.recipient == "user@xn--bcher-kva.example"
    assert not idn.envelope.smtputf8
    utf8 = message.build(Recipient("지우@example.com", "", "u2"))
    assert utf8.envelope.smtputf8


def test_make_sender_needs_a_from_address(newsletter: Path) -> None:
    newsletter.write_text(newsletter.read_text("utf-8").replace('from = "', 'old_from = "'))
    text = newsletter.read_text("utf-8").replace("old_from = ", "# old_from = ")
    newsletter.write_text(text, "utf-8")
    with pytest.raises(Exception, match=r"\[email\] from is required"):
        make_sender(open_newsletter(newsletter).config)


def test_the_list_id_comes_from_the_newsletter_not_its_folder(newsletter: Path) -> None:
    text = newsletter.read_text("utf-8")
    newsletter.write_text(re.sub(r"(?m)^list_id = .*$", "", text), "utf-8")
    first = make_sender(open_newsletter(newsletter).config).list_id
    moved = newsletter.parent.with_name("old-copy-2025")
    newsletter.parent.rename(moved)
    again = make_sender(open_newsletter(moved / "newsroom.toml").config).list_id
    assert first == again and first.endswith("<briefing.example.org>")  # briefing@example.org
    # A configured one wins.
    (moved / "newsroom.toml").write_text(text, "utf-8")
    configured = make_sender(open_newsletter(moved / "newsroom.toml").config).list_id
    assert configured.endswith("<ai-briefing.example.org>")


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("http://example.org/subscription/", True),
        ("https://example.org/subscription/", False),
        ("http://127.0.0.1:8025/", False),
        ("http://localhost:8025/", False),
    ],
)
def test_check_and_send_refuse_a_plain_http_subscriptions_url(
    newsletter: Path, url: str, refused: bool
) -> None:
    text = newsletter.read_text("utf-8") + f'\n[subscriptions]\nurl = "{url}"\n'
    newsletter.write_text(text, "utf-8")
    check = newsroom_cli(newsletter, "check")
    send = newsroom_cli(newsletter, "send", "--dry-run")
    if refused:
        assert check.returncode == 3 and "must be https" in check.stderr + check.stdout
        assert send.returncode == 3 and "RFC 8058" in send.stderr
    else:
        assert check.returncode == 0, check.stdout + check.stderr
        assert send.returncode == 0, send.stderr


def test_sending_without_a_subscriptions_url_is_refused(newsletter: Path) -> None:
    text = newsletter.read_text("utf-8")
    newsletter.write_text(re.sub(r"(?m)^base_url = .*$", 'base_url = ""', text), "utf-8")
    send = newsroom_cli(newsletter, "send")
    assert send.returncode == 3 and "[subscriptions] url" in send.stderr
    check = newsroom_cli(newsletter, "check")
    assert check.returncode == 3 and "[subscriptions] url" in check.stderr


@pytest.fixture
def dkim_key(tmp_path: Path) -> tuple[Path, bytes]:
    """An RSA key made for the test, and its DKIM DNS record."""
    import base64

    openssl = require_tool("openssl")
    key = tmp_path / "dkim.pem"
    subprocess.run([openssl, "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        [openssl, "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    return key, record


def dns_for(record: bytes) -> Callable[..., bytes]:
    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"nr1._domainkey.example.org."
        return record

    return dns


def dkim_message(newsletter: Path, key: Path) -> bytes:
    text = newsletter.read_text("utf-8").replace(
        "[email]\n", f'[email]\ndkim_key_file = "{key}"\ndkim_selector = "nr1"\n', 1
    )
    newsletter.write_text(text, "utf-8")
    message = edition_message(open_newsletter(newsletter).config, EDITION)
    return message.build(Recipient("a@example.com", "김지우", "uid-a")).data


def test_dkim_signature_covers_list_unsubscribe_and_verifies(
    newsletter: Path, dkim_key: tuple[Path, bytes]
) -> None:
    import dkim

    key, record = dkim_key
    data = dkim_message(newsletter, key)
    parsed = parse(data)
    signed = parsed["DKIM-Signature"]
    assert "d=example.org" in signed and "s=nr1" in signed
    signed_headers = re.search(r"h=([^;]+)", str(signed).replace(" ", ""))
    assert signed_headers is not None
    names = signed_headers.group(1).lower().split(":")
    assert {"list-unsubscribe", "list-unsubscribe-post", "from", "subject"} <= set(names)

    dns = dns_for(record)
    assert dkim.verify(data, dnsfunc=dns)
    tampered = data.replace(b"List-Unsubscribe-Post: ", b"List-Unsubscribe-Post:  ")
    tampered = tampered.replace(b"subscription/unsubscribe/", b"subscription/unsubscribe/x", 1)
    assert not dkim.verify(tampered, dnsfunc=dns)


@pytest.mark.parametrize(
    "header",
    [
        b"From: =?utf-8?b?67mE7ISc?= <security@example.org>",
        b"Subject: Urgent: confirm your account",
        b"List-Unsubscribe: <https://evil.example/unsubscribe>",
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
    ],
)
def test_a_header_added_on_the_way_breaks_the_dkim_signature(
    newsletter: Path, dkim_key: tuple[Path, bytes], header: bytes
) -> None:
    import dkim

    key, record = dkim_key
    data = dkim_message(newsletter, key)
    dns = dns_for(record)
    assert dkim.verify(data, dnsfunc=dns)
    # A second copy of a signed header, put in before ours or after the signature: mail
    # programs may show either one, so the signature must no longer verify.
    assert not dkim.verify(header + b"\r\n" + data, dnsfunc=dns)
    head, _, rest = data.partition(b"\r\n\r\n")
    assert not dkim.verify(head + b"\r\n" + header + b"\r\n\r\n" + rest, dnsfunc=dns)


def test_dkim_signed_bodies_survive_a_relay_without_8bitmime(
    newsletter: Path, dkim_key: tuple[Path, bytes]
) -> None:
    import dkim

    key, record = dkim_key
    data = dkim_message(newsletter, key)
    # 7-bit throughout: a relay that cannot pass 8-bit bodies has nothing to re-encode, so
    # the body hash still holds when the message arrives.
    assert data.isascii()
    parts = [p for p in parse(data).iter_parts()]
    assert {str(p["Content-Transfer-Encoding"]) for p in parts} == {"base64"}
    assert "논문 동향" in body(parse(data), "html")
    assert dkim.verify(data, dnsfunc=dns_for(record))


def test_preformatted_text_over_several_lines_is_never_folded() -> None:
    code = "x = 1  " + "  ".join(f"v{i}" for i in range(400))  # one long line of code
    html = f"<pre>\n{code}\n</pre>\n<p>{' '.join(['단어'] * 400)}</p>"
    folded = fold_html(html, limit=200)
    assert code in folded.split("\n")  # inside <pre>: untouched, however long
    assert max(len(line.encode()) for line in folded.split("\n")[3:]) <= 200
