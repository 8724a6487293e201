"""Delivery status notifications as Postfix, Exim, Gmail and Exchange write them (RFC 3464:
a multipart/report with a human-readable part, a message/delivery-status part and the
original message or its headers), for the mailbox tests. Written after each server's
documented and commonly seen layout; the addresses and ids are the test's."""

from __future__ import annotations

DATE = "Sat, 14 Feb 2026 07:10:00 +0900"


def _original(recipient: str, message_id: str) -> str:
    return (
        "Received: from news.example.org (news.example.org [192.0.2.10])\r\n"
        f"Date: {DATE}\r\n"
        "From: =?utf-8?b?QUkg67iM66as7ZWR?= <briefing@example.org>\r\n"
        f"To: {recipient}\r\n"
        "Subject: =?utf-8?b?QUkg67iM66as7ZWR?= 2026-02-14\r\n"
        f"Message-ID: {message_id}\r\n"
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        "MIME-Version: 1.0\r\n"
    )


def postfix(recipient: str, message_id: str, *, delayed: bool = False) -> bytes:
    action, status = ("delayed", "4.4.1") if delayed else ("failed", "5.1.1")
    diagnostic = (
        "connect to mx.example.net[198.51.100.7]:25: Connection timed out"
        if delayed
        else f"host mx.example.net[198.51.100.7] said: 550 5.1.1 <{recipient}>: "
        "Recipient address rejected: User unknown in virtual mailbox table (in reply to "
        "RCPT TO command)"
    )
    subject = (
        "Delayed Mail (still being retried)" if delayed else "Undelivered Mail Returned to Sender"
    )
    return (
        "Return-Path: <>\r\n"
        f"Date: {DATE}\r\n"
        "From: MAILER-DAEMON@news.example.org (Mail Delivery System)\r\n"
        f"Subject: {subject}\r\n"
        "To: briefing@example.org\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status;\r\n"
        '\tboundary="3C1A2400E7.1771020600/news.example.org"\r\n'
        "Message-Id: <20260214221000.3C1A2400E7@news.example.org>\r\n"
        "\r\n"
        "This is a MIME-encapsulated message.\r\n"
        "\r\n"
        "--3C1A2400E7.1771020600/news.example.org\r\n"
        "Content-Description: Notification\r\n"
        "Content-Type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "This is the mail system at host news.example.org.\r\n"
        "\r\n"
        "I'm sorry to have to inform you that your message could not\r\n"
        "be delivered to one or more recipients. It's attached below.\r\n"
        "\r\n"
        f"<{recipient}>: {diagnostic}\r\n"
        "\r\n"
        "--3C1A2400E7.1771020600/news.example.org\r\n"
        "Content-Description: Delivery report\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; news.example.org\r\n"
        "X-Postfix-Queue-ID: 3C1A2400E7\r\n"
        "X-Postfix-Sender: rfc822; briefing@example.org\r\n"
        f"Arrival-Date: {DATE}\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Original-Recipient: rfc822;{recipient}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        "Remote-MTA: dns; mx.example.net\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n"
        "\r\n"
        "--3C1A2400E7.1771020600/news.example.org\r\n"
        "Content-Description: Undelivered Message Headers\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        + _original(recipient, message_id)
        + "\r\n--3C1A2400E7.1771020600/news.example.org--\r\n"
    ).encode()


def exim(recipient: str, message_id: str) -> bytes:
    return (
        "Return-path: <>\r\n"
        "From: Mail Delivery System <Mailer-Daemon@mx.example.net>\r\n"
        "To: briefing@example.org\r\n"
        "Subject: Mail delivery failed: returning message to sender\r\n"
        "Message-Id: <E1vAbCd-0001xY-2Q@mx.example.net>\r\n"
        f"Date: {DATE}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status;\r\n"
        ' boundary="1771020600-eximdsn-1"\r\n'
        "\r\n"
        "--1771020600-eximdsn-1\r\n"
        "Content-type: text/plain; charset=us-ascii\r\n"
        "\r\n"
        "This message was created automatically by mail delivery software.\r\n"
        "\r\n"
        "A message that you sent could not be delivered to one or more of its\r\n"
        "recipients. This is a permanent error. The following address(es) failed:\r\n"
        "\r\n"
        f"  {recipient}\r\n"
        "    host mx2.example.net [203.0.113.5]\r\n"
        "    SMTP error from remote mail server after RCPT TO:<"
        f"{recipient}>:\r\n"
        "    550 5.1.1 No such user here\r\n"
        "\r\n"
        "--1771020600-eximdsn-1\r\n"
        "Content-type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n"
        "\r\n"
        f"Action: failed\r\n"
        f"Final-Recipient: rfc822;{recipient}\r\n"
        "Status: 5.1.1\r\n"
        "Remote-MTA: dns; mx2.example.net\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 No such user here\r\n"
        "\r\n"
        "--1771020600-eximdsn-1\r\n"
        "Content-type: message/rfc822\r\n"
        "\r\n" + _original(recipient, message_id) + "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "The briefing.\r\n"
        "\r\n--1771020600-eximdsn-1--\r\n"
    ).encode()


def gmail(recipient: str, message_id: str) -> bytes:
    return (
        "Delivered-To: briefing@example.org\r\n"
        "Return-Path: <>\r\n"
        "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\n"
        "To: briefing@example.org\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "Subject: Delivery Status Notification (Failure)\r\n"
        "References: " + message_id + "\r\n"
        "In-Reply-To: " + message_id + "\r\n"
        "X-Failed-Recipients: " + recipient + "\r\n"
        "Message-ID: <65cc5a2b.a70a0220.1b2c3.abcdGMR@mx.google.com>\r\n"
        f"Date: {DATE}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; boundary="000000000000a1b2c3"; '
        "report-type=delivery-status\r\n"
        "\r\n"
        "--000000000000a1b2c3\r\n"
        'Content-Type: multipart/related; boundary="000000000000a1b2c4"\r\n'
        "\r\n"
        "--000000000000a1b2c4\r\n"
        'Content-Type: multipart/alternative; boundary="000000000000a1b2c5"\r\n'
        "\r\n"
        "--000000000000a1b2c5\r\n"
        'Content-Type: text/plain; charset="UTF-8"\r\n'
        "\r\n"
        "\r\n"
        "** Address not found **\r\n"
        "\r\n"
        f"Your message wasn't delivered to {recipient} because the address couldn't be "
        "found, or is unable to receive mail.\r\n"
        "\r\n"
        "The response from the remote server was:\r\n"
        f"550 5.1.1 The email account that you tried to reach does not exist.\r\n"
        "\r\n"
        "--000000000000a1b2c5--\r\n"
        "--000000000000a1b2c4--\r\n"
        "--000000000000a1b2c3\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; googlemail.com\r\n"
        "Received-From-MTA: dns; briefing@example.org\r\n"
        f"Arrival-Date: {DATE}\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        "Remote-MTA: dns; gmail-smtp-in.l.google.com. (2a00:1450:4013:c00::1a, the server "
        "for the domain gmail.com.)\r\n"
        "Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does "
        "not exist.\r\n"
        f"Last-Attempt-Date: {DATE}\r\n"
        "\r\n"
        "--000000000000a1b2c3\r\n"
        "Content-Type: message/rfc822\r\n"
        "\r\n" + _original(recipient, message_id) + "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "The briefing.\r\n"
        "\r\n--000000000000a1b2c3--\r\n"
    ).encode()


def exchange(recipient: str, message_id: str) -> bytes:
    return (
        "From: Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@"
        "contoso.example>\r\n"
        "To: <briefing@example.org>\r\n"
        f"Date: {DATE}\r\n"
        "Content-Type: multipart/report; report-type=delivery-status;\r\n"
        '\tboundary="f8a1e6b4-2c3d-4e5f-9a8b-7c6d5e4f3a2b"\r\n'
        "X-MS-Exchange-Message-Is-Ndr:\r\n"
        "Content-Language: en-US\r\n"
        "Message-ID: <a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d@AM0PR01MB1234.eurprd01.prod."
        "exchangelabs.com>\r\n"
        "In-Reply-To: " + message_id + "\r\n"
        "References: " + message_id + "\r\n"
        "Subject: Undeliverable: AI briefing 2026-02-14\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        "\r\n"
        "--f8a1e6b4-2c3d-4e5f-9a8b-7c6d5e4f3a2b\r\n"
        "Content-Type: multipart/alternative; differences=Content-Type;\r\n"
        '\tboundary="b5c4d3e2-f1a0-4b9c-8d7e-6f5a4b3c2d1e"\r\n'
        "\r\n"
        "--b5c4d3e2-f1a0-4b9c-8d7e-6f5a4b3c2d1e\r\n"
        'Content-Type: text/plain; charset="us-ascii"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "Delivery has failed to these recipients or groups:\r\n"
        "\r\n"
        f"{recipient}<mailto:{recipient}>\r\n"
        "The email address you entered couldn't be found. Please check the recipient's "
        "email address and try to resend the message.\r\n"
        "\r\n"
        "--b5c4d3e2-f1a0-4b9c-8d7e-6f5a4b3c2d1e--\r\n"
        "\r\n"
        "--f8a1e6b4-2c3d-4e5f-9a8b-7c6d5e4f3a2b\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com\r\n"
        "Received-From-MTA: dns;news.example.org\r\n"
        f"Arrival-Date: {DATE}\r\n"
        "\r\n"
        f"Original-Recipient: rfc822;{recipient}\r\n"
        f"Final-Recipient: rfc822;{recipient}\r\n"
        "Action: failed\r\n"
        "Status: 5.1.10\r\n"
        "Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not "
        "found by SMTP address lookup\r\n"
        "\r\n"
        "--f8a1e6b4-2c3d-4e5f-9a8b-7c6d5e4f3a2b\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        + _original(recipient, message_id)
        + "\r\n--f8a1e6b4-2c3d-4e5f-9a8b-7c6d5e4f3a2b--\r\n"
    ).encode()


def reply(sender: str) -> bytes:
    """A reader's reply: not for newsroom to handle."""
    return (
        f"From: {sender}\r\n"
        "To: briefing@example.org\r\n"
        "Subject: Re: AI briefing 2026-02-14\r\n"
        f"Date: {DATE}\r\n"
        "Message-ID: <reply-1@example.net>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Thanks, the item on model evaluation was great.\r\n"
    ).encode()


def unsubscribe_request(sender: str, to: str, subject: str) -> bytes:
    """What a mail program sends for a ``mailto:`` List-Unsubscribe."""
    return (
        f"From: {sender}\r\n"
        f"To: {to}\r\n"
        f"Subject: {subject}\r\n"
        f"Date: {DATE}\r\n"
        "Message-ID: <unsub-1@example.net>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "This is an unsubscribe request.\r\n"
    ).encode()
