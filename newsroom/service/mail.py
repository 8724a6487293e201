"""The signup confirmation email: a small multipart text + HTML message, sent at once.

Confirmation emails go through the newsletter's transport within the ``[email]`` limits
(``rate`` per second and ``hourly_limit``), counted for the service's own emails.
"""

from __future__ import annotations

import base64
import html
import logging
import math
import secrets
import time
from email.utils import formatdate

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerSecond
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from newsroom.config import Config
from newsroom.config.mail import EmailConfig
from newsroom.core.transport import (
    Envelope,
    OutgoingMessage,
    Transport,
    TransportContext,
)
from newsroom.deliver.delivery import transport_for
from newsroom.deliver.messages import (
    DkimSigner,
    Sender,
    ascii_address,
    encode_header,
    format_address,
    make_sender,
)
from newsroom.deliver.subscribers import signup_name
from newsroom.service.pages import Strings

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
        # The name was typed into a public form: no links, no essay, in anyone's To: line.
        f"To: {format_address(signup_name(name), envelope_to if not smtputf8 else address)}",
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


#: Seconds a transport's last answer (a message sent, or a failure) is taken as its state
#: for signups that send nothing (see :meth:`Mailer.available`).
HEALTH_SECONDS = 60.0


def quota(email: EmailConfig) -> list[RateLimitItem]:
    """``[email] rate`` and ``hourly_limit`` as moving-window limits (none when unset)."""
    items: list[RateLimitItem] = []
    if email.rate >= 1:
        items.append(RateLimitItemPerSecond(int(email.rate)))
    elif email.rate > 0:
        items.append(RateLimitItemPerSecond(1, math.ceil(1 / email.rate)))
    if email.hourly_limit:
        items.append(RateLimitItemPerHour(email.hourly_limit))
    return items


def _quiet(text: str, address: str) -> str:
    """A transport's error without the recipient's address (logs keep no addresses)."""
    return text.replace(address, "<recipient>") if address else text


class Mailer:
    """Sends confirmation emails through the newsletter's transport: one channel per
    message (signups are rare), opened and closed around it."""

    def __init__(self, config: Config, storage: Storage | None = None) -> None:
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
        self.quota = quota(config.email)
        # The state's storage when given: several services share the quota.
        self.limiter = MovingWindowRateLimiter(storage or MemoryStorage())
        self._last: tuple[float, bool] | None = None
        """When the transport last answered, and whether it took the message."""

    def _context(self) -> TransportContext:
        return TransportContext(
            root=self.config.root, output_dir=self.config.output_dir / "confirmations"
        )

    def within_quota(self) -> bool:
        return all(self.limiter.test(item, "confirmations") for item in self.quota)

    async def available(self) -> bool:
        """Whether a confirmation email would go out now: within the quota, and the
        transport took the last one (or, when it has not been used for a minute, a channel
        opens). A signup that sends nothing answers as if it had sent, failure included, so
        that no answer tells an address that gets mail from one that does not."""
        if not self.within_quota():
            return False
        now = time.monotonic()
        if self._last is not None and now - self._last[0] < HEALTH_SECONDS:
            return self._last[1]
        try:
            channel = await self.transport.open(self._context())
            await channel.close()
        except Exception as exc:
            log.warning("the transport for confirmation emails does not open: %s", exc)
            self._last = (time.monotonic(), False)
            return False
        self._last = (time.monotonic(), True)
        return True

    async def send_confirmation(self, strings: Strings, address: str, name: str, link: str) -> bool:
        """Send one confirmation; False (and a log line) when it was not sent: over the
        ``[email]`` quota, or the transport refused it."""
        if not self.within_quota() or not all(
            self.limiter.hit(item, "confirmations") for item in self.quota
        ):
            log.warning("confirmation email not sent: over the [email] rate or hourly_limit")
            return False
        ok = await self._send(strings, address, name, link)
        self._last = (time.monotonic(), ok)
        return ok

    async def _send(self, strings: Strings, address: str, name: str, link: str) -> bool:
        try:
            channel = await self.transport.open(self._context())
        except Exception as exc:  # a refused login or a dead server must not fail the page
            log.warning("confirmation email not sent: %s", _quiet(str(exc), address))
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
            log.warning("confirmation email not sent: %s", _quiet(str(exc), address))
            return False
        finally:
            await channel.close()
