"""The signup confirmation email: a small multipart text + HTML message, sent at once."""

from __future__ import annotations

import base64
import html
import logging
import secrets
from email.utils import formatdate

from newsroom.config import Config
from newsroom.delivery import transport_for
from newsroom.messages import (
    DkimSigner,
    Sender,
    ascii_address,
    encode_header,
    format_address,
    make_sender,
)
from newsroom.service.pages import Strings
from newsroom.transport import (
    Envelope,
    OutgoingMessage,
    Transport,
    TransportContext,
)

log = logging.getLogger("newsroom.service")


def _part(content_type: str, text: str, eight_bit: bool) -> bytes:
    body = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    if eight_bit:
        encoding = b"8bit"
    else:
        encoding, body = b"base64", base64.encodebytes(body).replace(b"\n", b"\r\n")
    return (
        b"Content-Type: " + content_type.encode("ascii") + b'; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: " + encoding + b"\r\n\r\n" + body
    )


def confirmation_message(
    sender: Sender,
    strings: Strings,
    address: str,
    name: str,
    link: str,
    *,
    eight_bit: bool = True,
    dkim: DkimSigner | None = None,
) -> OutgoingMessage:
    """The message asking ``address`` to open ``link``."""
    envelope_to, smtputf8 = ascii_address(address)
    message_id = f"<{secrets.token_hex(16)}@{sender.domain}>"
    boundary = "=_nr_" + secrets.token_hex(14)
    intro, ignore = strings.mail_body, strings.mail_ignore
    text = f"{intro}\n\n{link}\n\n{ignore}\n"
    page = (
        f'<!doctype html><html lang="{strings.values.get("lang", "en")}"><body>\n'
        f"<p>{html.escape(intro)}</p>\n"
        f'<p><a href="{html.escape(link)}">{html.escape(strings.confirm_button)}</a></p>\n'
        f"<p>{html.escape(link)}</p>\n"
        f"<p>{html.escape(ignore)}</p>\n</body></html>\n"
    )
    headers = [
        f"From: {sender.from_header}",
        f"To: {format_address(name, envelope_to if not smtputf8 else address)}",
        f"Subject: {encode_header(strings.mail_subject, 'Subject')}",
        f"Date: {formatdate(usegmt=True)}",
        f"Message-ID: {message_id}",
        "Auto-Submitted: auto-generated",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/alternative; boundary="{boundary}"',
    ]
    if sender.reply_to:
        headers.insert(1, f"Reply-To: {sender.reply_to}")
    b = boundary.encode("ascii")
    data = b"".join(
        (
            ("\r\n".join(headers) + "\r\n\r\n").encode("utf-8"),
            b"--" + b + b"\r\n",
            _part("text/plain", text, eight_bit),
            b"\r\n--" + b + b"\r\n",
            _part("text/html", page, eight_bit),
            b"\r\n--" + b + b"--\r\n",
        )
    )
    if dkim is not None:
        data = dkim.sign(data)
    return OutgoingMessage(Envelope(sender.address, envelope_to, smtputf8), data, message_id)


class Mailer:
    """Sends confirmation emails through the newsletter's transport: one channel per
    message (signups are rare), opened and closed around it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.sender = make_sender(config)
        self.transport: Transport = transport_for(config)
        self.dkim: DkimSigner | None = None
        if config.email.dkim_key_file:
            self.dkim = DkimSigner(
                config.root / config.email.dkim_key_file,
                config.email.dkim_selector,
                config.email.dkim_domain or self.sender.domain,
            )

    async def send_confirmation(self, strings: Strings, address: str, name: str, link: str) -> bool:
        """Send one confirmation; False (and a log line) when the transport refused it."""
        ctx = TransportContext(
            root=self.config.root, output_dir=self.config.output_dir / "confirmations"
        )
        try:
            channel = await self.transport.open(ctx)
        except Exception as exc:  # a refused login or a dead server must not fail the page
            log.warning("confirmation email not sent: %s", exc)
            return False
        try:
            message = confirmation_message(
                self.sender,
                strings,
                address,
                name,
                link,
                eight_bit=channel.accepts_8bit,
                dkim=self.dkim,
            )
            await channel.send(message)
            return True
        except Exception as exc:
            log.warning("confirmation email not sent: %s", exc)
            return False
        finally:
            await channel.close()
