"""The reply mailbox: bounces that come back as mail, and unsubscribe requests by mail.

``newsroom mailbox`` (and ``newsroom run``) reads the ``[mailbox]`` folder over IMAP
(imap-tools) and handles two kinds of message:

* **delivery status notifications** (bounces), recognised by flufl.bounce, which knows the
  formats of RFC 3464 and of the mail servers that do their own thing. A permanent failure
  marks the address ``bounced``, but only when the bounce quotes the Message-ID of a
  message newsroom sent to that address (its original headers, which RFC 3464 reports and
  the common servers include): the Message-ID is derived from the subscriber's uid, which
  no outsider knows, so a forged "bounce" cannot suppress a reader. A bounce that quotes
  none is left where it is, for a person to read. Transient failures are counted.
* **unsubscribe requests** to the ``mailto:`` of ``List-Unsubscribe``, whose subject
  carries the reader's signed token (the same one as the https link): the subscriber it
  names is unsubscribed, whoever the mail says it is from.

What was handled is moved to ``done_folder``; everything else (replies from readers,
auto-replies) stays unread in the folder.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

from newsroom.config import Config
from newsroom.config.mail import MailboxConfig
from newsroom.core.errors import NewsroomError
from newsroom.core.feedback import Event
from newsroom.deliver.messages import make_sender, message_id_for
from newsroom.deliver.reports import apply_events
from newsroom.deliver.sending.delivery_log import editions_sent_to
from newsroom.deliver.subscribers import Subscribers
from newsroom.deliver.tokens import InvalidToken, KeyRing, Signer
from newsroom.store.state import State

_TOKEN = re.compile(r"\bunsubscribe\s+([A-Za-z0-9_.-]{16,400})", re.I)
#: Messages fetched from the server at once.
BATCH = 200


class MailboxError(NewsroomError):
    """The mailbox cannot be reached or read; the message says which and why."""


@dataclass
class MailboxReport:
    """What one reading of the mailbox did."""

    bounced: int = 0
    soft_bounces: int = 0
    unsubscribed: int = 0
    unknown: int = 0
    """Bounces and requests for addresses or tokens that are not on the list."""
    unverified: int = 0
    """Bounces that quote no message newsroom sent to the address: left in the folder."""
    left: int = 0
    """Messages that are neither: left in the folder, unread."""
    moved: int = 0
    problems: list[str] = field(default_factory=list)


def _subject(message: Message) -> str:
    raw = message.get("Subject", "")
    try:
        return str(make_header(decode_header(str(raw))))
    except (ValueError, LookupError):
        return str(raw)


class MailboxReader:
    """Classifies and applies one message at a time, against one open state file."""

    def __init__(self, state: State, signer: Signer, domain: str) -> None:
        self.subscribers = Subscribers(state)
        self.state = state
        self.signer = signer
        self.domain = domain
        self._quoted_id = re.compile(r"<([0-9a-f]{32})@" + re.escape(domain) + r">", re.I)

    def handle(self, message: Message, report: MailboxReport) -> bool:
        """Apply ``message``; True when it was handled (and is to be moved)."""
        from flufl.bounce import all_failures

        try:
            temporary, permanent = all_failures(message)
        except Exception:  # a malformed message flufl.bounce cannot walk: not a bounce
            temporary, permanent = frozenset(), frozenset()
        if permanent or temporary:
            return self._bounce(message, permanent, temporary, report)
        match = _TOKEN.search(_subject(message))
        if match:
            return self._unsubscribe(match.group(1), report)
        report.left += 1
        return False

    def _bounce(
        self,
        message: Message,
        permanent: frozenset[bytes],
        temporary: frozenset[bytes],
        report: MailboxReport,
    ) -> bool:
        if not permanent:
            report.soft_bounces += 1
            return True
        quoted = {m.lower() for m in self._quoted_id.findall(message.as_string())}
        events = []
        for raw in sorted(permanent):
            address = raw.decode("utf-8", "replace")
            sub = self.subscribers.get(address)
            if sub is None:
                report.unknown += 1
                continue
            sent = {
                message_id_for(edition, sub.uid, self.domain)[1:33]
                for edition in editions_sent_to(self.state, sub.id)
            }
            if not sent & quoted:
                report.unverified += 1
                return False  # for a person to read: nothing proves we sent it
            events.append(Event(sub.email, "bounced", "bounce by mail: permanent failure"))
        counts = apply_events(self.subscribers, events)
        report.bounced += counts["applied"]
        return True

    def _unsubscribe(self, token: str, report: MailboxReport) -> bool:
        try:
            uid = self.signer.read_subscriber_token(token)
        except InvalidToken:
            report.unknown += 1
            return True
        sub = self.subscribers.by_uid(uid)
        if sub is None:
            report.unknown += 1
            return True
        counts = apply_events(
            self.subscribers, [Event(sub.email, "unsubscribed", "unsubscribe by mail")]
        )
        report.unsubscribed += counts["applied"]
        return True


def _connect(settings: MailboxConfig) -> Any:
    try:
        from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
    except ImportError:
        raise MailboxError(
            "[mailbox] needs imap-tools and flufl.bounce: pip install 'newsroom-digest[services]'"
        ) from None
    where = f"{settings.host}:{settings.real_port}"
    box: Any
    try:
        if settings.security == "tls":
            box = MailBox(
                settings.host,
                settings.real_port,
                timeout=settings.timeout,
                ssl_context=ssl.create_default_context(),
            )
        elif settings.security == "starttls":
            box = MailBoxStartTls(
                settings.host,
                settings.real_port,
                timeout=settings.timeout,
                ssl_context=ssl.create_default_context(),
            )
        else:
            box = MailBoxUnencrypted(settings.host, settings.real_port, timeout=settings.timeout)
    except (OSError, ssl.SSLError) as exc:
        raise MailboxError(f"[mailbox] cannot connect to {where}: {exc}") from None
    try:
        return box.login(
            settings.user, settings.password.get_secret_value(), initial_folder=settings.folder
        )
    except Exception as exc:
        box.client.shutdown()
        raise MailboxError(
            f"[mailbox] {where}: cannot log in as {settings.user!r} or open folder "
            f"{settings.folder!r}: {type(exc).__name__}"
        ) from None


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def read_mailbox(config: Config) -> MailboxReport:
    """Read the ``[mailbox]`` folder once: apply its bounces and unsubscribe requests and
    move them to ``done_folder``."""
    settings = config.mailbox
    if settings is None:
        raise MailboxError("no [mailbox] configured")
    sender = make_sender(config)
    signer = KeyRing(config.keys_file).signer()
    report = MailboxReport()
    from imap_tools import AND

    with _connect(settings) as box, State.of(config) as state:
        if not box.folder.exists(settings.done_folder):
            box.folder.create(settings.done_folder)
        reader = MailboxReader(state, signer, sender.domain)
        uids = [u for u in box.uids(AND(all=True))]
        for chunk in _chunks(uids, BATCH):
            handled = []
            for message in box.fetch(AND(uid=chunk), mark_seen=False, bulk=True):
                if reader.handle(message.obj, report):
                    handled.append(message.uid)
            if handled:
                box.move(handled, settings.done_folder)
                report.moved += len(handled)
    return report
