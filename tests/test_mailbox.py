"""``newsroom mailbox``: bounces in the formats Postfix, Exim, Gmail and Exchange write, and
unsubscribe requests by mail, read from a real Dovecot IMAP server on 127.0.0.1
(``imap_account``, tests/servers.py) after a real send to a local SMTP server."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dsn_samples
import pytest
from conftest import EDITION, newsroom_cli, point_at
from servers import ImapAccount
from test_send import add_subscribers

from newsroom.config.newsletter import open_newsletter
from newsroom.deliver.delivery import send_edition
from newsroom.deliver.messages import message_id_for
from newsroom.deliver.sending import SendSettings
from newsroom.dev.smtpsink import SmtpSink
from newsroom.store.state import State

DONE = "newsroom-handled"


def with_mailbox(config: Path, account: ImapAccount) -> None:
    config.write_text(
        config.read_text("utf-8")
        + f'\n[mailbox]\nhost = "127.0.0.1"\nport = {account.port}\nsecurity = "none"\n'
        f'user = "{account.user}"\npassword = {{ "$env" = "NEWSROOM_IMAP_PASSWORD" }}\n',
        "utf-8",
    )


def uids(config: Path) -> dict[str, str]:
    with State(config.parent / "state.db") as state:
        return dict(state.db.execute("SELECT email, uid FROM subscribers").fetchall())


def statuses(config: Path) -> dict[str, str]:
    with State(config.parent / "state.db") as state:
        return dict(state.db.execute("SELECT email, status FROM subscribers").fetchall())


def folder_subjects(account: ImapAccount, folder: str) -> list[str]:
    with account.mailbox(folder) as box:
        return sorted(m.subject for m in box.fetch(mark_seen=False))


def test_bounces_and_mailed_unsubscribes_are_applied_and_moved(
    newsletter: Path, imap_account: ImapAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSROOM_IMAP_PASSWORD", imap_account.password)
    addresses = add_subscribers(newsletter, 9)
    with SmtpSink() as sink:
        point_at(newsletter, sink.port)
        with_mailbox(newsletter, imap_account)  # after point_at, which sets every port
        config = open_newsletter(newsletter).config
        report = send_edition(config, EDITION, SendSettings(backoff=0.01, workers=1))
        assert report.counts.sent == 9
        sent = {m.recipients[0]: m.parsed() for m in sink.messages}

    # With a mailbox configured, List-Unsubscribe offers the mailto: too, with the token.
    header = str(sent[addresses[6]]["List-Unsubscribe"])
    https, mailto = [part.strip(" <>") for part in header.split(",")]
    assert https.startswith("http") and mailto.startswith("mailto:briefing@example.org?")
    subject = unquote(parse_qs(urlsplit(mailto).query)["subject"][0])

    uid = uids(newsletter)
    mid = {a: message_id_for(EDITION, uid[a], "example.org") for a in addresses}
    assert str(sent[addresses[0]]["Message-ID"]) == mid[addresses[0]]
    append = imap_account.append
    append(dsn_samples.postfix(addresses[0], mid[addresses[0]]))
    append(dsn_samples.exim(addresses[1], mid[addresses[1]]))
    append(dsn_samples.gmail(addresses[2], mid[addresses[2]]))
    append(dsn_samples.exchange(addresses[3], mid[addresses[3]]))
    append(dsn_samples.postfix(addresses[4], mid[addresses[4]], delayed=True))
    # A forged bounce: it cannot quote the Message-ID of a message sent to that reader.
    append(dsn_samples.gmail(addresses[5], "<0123456789abcdef0123456789abcdef@example.org>"))
    # The reader's mail program, following the mailto: (the From does not matter).
    append(dsn_samples.unsubscribe_request("someone@else.example", "briefing@example.org", subject))
    append(
        dsn_samples.unsubscribe_request(
            "attacker@example.net", "briefing@example.org", "unsubscribe " + "A" * 40
        )
    )
    append(dsn_samples.reply(addresses[8]))

    result = newsroom_cli(newsletter, "mailbox")
    assert result.returncode == 0, result.stderr
    assert (
        "Mailbox: 4 bounced, 1 soft bounce(s), 1 unsubscribed, 1 not on the list; 7 moved, "
        "1 left for a person; 1 bounce(s) quote no message sent" in result.stdout
    )
    assert statuses(newsletter) == {
        **{a: "active" for a in addresses},
        **{a: "bounced" for a in addresses[:4]},
        addresses[6]: "unsubscribed",
    }
    assert folder_subjects(imap_account, "INBOX") == [
        "Delivery Status Notification (Failure)",  # the forged one, for a person to read
        "Re: AI briefing 2026-02-14",
    ]
    assert len(folder_subjects(imap_account, DONE)) == 7
    # Read again: nothing new, nothing changes.
    again = newsroom_cli(newsletter, "mailbox")
    assert "0 bounced" in again.stdout and "0 moved" in again.stdout


def test_without_a_mailbox_no_mailto_is_offered(newsletter: Path) -> None:
    addresses = add_subscribers(newsletter, 1)
    with SmtpSink() as sink:
        point_at(newsletter, sink.port)
        config = open_newsletter(newsletter).config
        send_edition(config, EDITION, SendSettings(backoff=0.01, workers=1))
        message = sink.messages[0].parsed()
    assert message["To"].addresses[0].addr_spec == addresses[0]
    assert "mailto:" not in str(message["List-Unsubscribe"])


def test_a_wrong_password_is_a_clear_error(
    newsletter: Path, imap_account: ImapAccount, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSROOM_IMAP_PASSWORD", "not-the-password")
    with_mailbox(newsletter, imap_account)
    result = newsroom_cli(newsletter, "mailbox")
    assert result.returncode != 0
    assert f"cannot log in as {imap_account.user!r}" in result.stderr
    assert "not-the-password" not in result.stderr + result.stdout


def test_plain_imap_only_on_this_machine(newsletter: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSROOM_IMAP_PASSWORD", "x")
    newsletter.write_text(
        newsletter.read_text("utf-8")
        + '\n[mailbox]\nhost = "imap.example.org"\nsecurity = "none"\nuser = "u"\n'
        'password = { "$env" = "NEWSROOM_IMAP_PASSWORD" }\n',
        "utf-8",
    )
    result = newsroom_cli(newsletter, "mailbox")
    assert result.returncode != 0 and "plain IMAP sends the password unencrypted" in result.stderr


def test_a_dsn_message_parses_as_a_report() -> None:
    """The samples are RFC 3464 reports, as the servers write them."""
    for make in (dsn_samples.postfix, dsn_samples.exim, dsn_samples.gmail, dsn_samples.exchange):
        message = email.message_from_bytes(
            make("r@example.com", "<a@example.org>"), policy=email.policy.default
        )
        assert message.get_content_type() == "multipart/report"
        assert message.get_param("report-type") == "delivery-status"
        assert any(p.get_content_type() == "message/delivery-status" for p in message.walk())
