"""One edition's email, built once and personalised per subscriber by substitution.

The email renderer leaves placeholders (``%%unsubscribe_url.KEY%%``,
``%%subscriber_name.KEY%%``, ``%%subscriber_attr:company.KEY%%``) where per-subscriber values
go, ``KEY`` being a random key drawn for that render and recorded in ``email.json``. Only
placeholders with that key are filled in: feed text and model answers were written before
the key existed, so nothing they say can pull a reader's address or links into a message.
:class:`EditionMessage` splits the rendered HTML and text at those placeholders once; a
message for one subscriber is then a handful of header lines and a ``bytes.join``: no
template, MJML or ``email.message`` work per recipient, so tens of thousands of messages
cost little.

Bodies go as UTF-8 with ``Content-Transfer-Encoding: 8bit`` (no inflation of Korean text;
the SMTP transport re-encodes for the rare server without 8BITMIME). Lines are kept under
SMTP's 998-octet limit by breaking long HTML lines at whitespace that does not matter; a
part that cannot be kept under it goes as base64.

Header values from the edition or a subscriber never carry line breaks (they are removed,
and non-ASCII text is RFC 2047-encoded), so no header can be injected.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import quote

from newsroom.__about__ import DISTRIBUTION
from newsroom.config.mail import subscriptions_problem
from newsroom.config.outputs import EMAIL_FILES
from newsroom.core.errors import BuildError, ConfigError, NewsroomError
from newsroom.core.transport import Envelope, OutgoingMessage
from newsroom.deliver.subscribers import clean_name
from newsroom.deliver.tokens import Signer

#: A render's placeholder key: 128 random bits in hex (see newsroom.render.rendering).
_PLACEHOLDER_KEY = re.compile(r"[0-9a-f]{32}")


def placeholder_pattern(key: str) -> re.Pattern[str]:
    """The placeholders of the render whose key is ``key``; the name is group 1."""
    if not _PLACEHOLDER_KEY.fullmatch(key):
        raise ValueError(f"not a placeholder key: {key!r}")
    return re.compile(
        r"%%(subscriber_name|subscriber_email|unsubscribe_url|preferences_url|"
        r"subscriber_attr:[a-z0-9_-]+)\." + key + "%%"
    )


#: The rendered files a send reads, in the order :func:`files_hash` hashes them.
RENDERED_FILES = EMAIL_FILES
#: SMTP's limit is 998 octets per line, without the CRLF.
MAX_LINE = 998
#: Long HTML lines are broken to at most this many bytes.
FOLD_AT = 500
#: The headers a DKIM signature covers. Each is listed twice ("oversigned"): a copy of
#: one of them added on the way (a second From or List-Unsubscribe above ours) then breaks
#: the signature instead of riding along unnoticed (RFC 6376 8.15).
_DKIM_HEADERS = [
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
    b"reply-to",
]


@dataclass(frozen=True)
class Recipient:
    """What a message needs to know about its subscriber."""

    email: str
    name: str = ""
    uid: str = ""
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sender:
    """The sending side of every message, from ``[email]``."""

    from_header: str
    """Encoded ``From:`` value."""
    address: str
    """The envelope sender (also the Return-Path)."""
    domain: str
    list_id: str
    subscriptions_url: str = ""
    unsubscribe_mailto: str = ""
    reply_to: str = ""


def unsubscribe_mailto(address: str, token: str) -> str:
    """The ``mailto:`` URI of ``List-Unsubscribe`` for one reader: the subject carries
    their signed token, which ``newsroom mailbox`` reads (:mod:`newsroom.deliver.mailbox`)."""
    return f"mailto:{address}?subject={quote(f'unsubscribe {token}')}"


def message_id_for(edition_id: str, uid: str, domain: str) -> str:
    """The Message-ID of an edition's message to one subscriber (by their uid, which no
    one outside knows: a bounce that quotes it was caused by a message newsroom sent)."""
    digest = hashlib.sha256(f"{edition_id}\0{uid}".encode()).hexdigest()
    return f"<{digest[:32]}@{domain}>"


def one_line(text: str) -> str:
    """``text`` with every control character and line break turned into a space."""
    return " ".join("".join(" " if ord(c) < 32 or c == "\x7f" else c for c in text).split())


def encode_header(value: str, name: str) -> str:
    """A header value: ASCII as it is, anything else RFC 2047-encoded; always one logical
    line (folded with CRLF + space where long)."""
    value = one_line(value)
    if value.isascii() and len(value) + len(name) < 76:
        return value
    return Header(value, "utf-8", header_name=name).encode(linesep="\r\n")


def format_address(name: str, address: str) -> str:
    """``Name <address>`` for a header, the name encoded when it is not ASCII."""
    name = clean_name(name)
    if not address.isascii():
        # SMTPUTF8 (RFC 6532): the address goes as UTF-8, the name stays encoded.
        shown = encode_header(name, "To") if name else ""
        return f"{shown} <{address}>" if shown else f"<{address}>"
    if not name:
        return address
    if name.isascii():
        return formataddr((name, address))
    return f"{encode_header(name, 'To')} <{address}>"


def ascii_address(address: str) -> tuple[str, bool]:
    """The address for the SMTP envelope (IDNA domain) and whether it needs SMTPUTF8."""
    if address.isascii():
        return address, False
    local, _, domain = address.rpartition("@")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        pass
    full = f"{local}@{domain}"
    return full, not full.isascii()


def make_sender(config: Any, *, subscriptions_url: str | None = None) -> Sender:
    """A :class:`Sender` from a newsletter's config (``[email]``, ``[subscriptions]``).

    ``subscriptions_url`` replaces the configured one, unchecked: a test copy to the editor
    may link to ``newsroom serve`` on this machine before the newsletter has a public one."""
    email = config.email
    if not email.from_:
        raise ConfigError(
            '[email] from is required to send, e.g. from = "AI 브리핑 <briefing@example.org>"',
            path=str(config.path),
        )
    problem = "" if subscriptions_url else subscriptions_problem(config.subscriptions_url)
    if problem:
        raise ConfigError(problem, path=str(config.path))
    name, address = parseaddr(email.from_)
    local, _, domain = address.rpartition("@")
    domain = domain.lower()
    # From the newsletter's own address, never from where its files happen to be: moving
    # the folder must not change what readers' filters match.
    label = re.sub(r"[^a-z0-9-]+", "-", local.lower()).strip("-") or "newsletter"
    list_id = email.list_id or f"{label}.{domain}"
    title = one_line(config.newsletter.title)
    return Sender(
        from_header=format_address(name or title, address),
        address=address,
        domain=domain,
        list_id=f"{encode_header(title, 'List-Id')} <{list_id}>",
        subscriptions_url=subscriptions_url or config.subscriptions_url,
        # Offered only when something reads the mails sent there: the [mailbox].
        unsubscribe_mailto=(parseaddr(email.unsubscribe_mailto)[1] or address)
        if getattr(config, "mailbox", None) is not None
        else "",
        reply_to=format_address(*parseaddr(email.reply_to)) if email.reply_to else "",
    )


# -- bodies ----------------------------------------------------------------------------------

_TAG_OR_TEXT = re.compile(r"(<[^>]*>)")
_PRE_OPEN = re.compile(r"<(pre|textarea|script|style)\b", re.I)
_PRE_CLOSE = re.compile(r"</(pre|textarea|script|style)\s*>", re.I)


def fold_html(text: str, limit: int = FOLD_AT) -> str:
    """Break lines longer than ``limit`` bytes where a line break means nothing: at a space
    in text (outside ``<pre>`` and the like, however many lines they span), or between a
    tag's attributes."""
    out_lines = []
    verbatim = 0  # how deep inside <pre>, <textarea>, <script> or <style> a line starts
    for line in text.split("\n"):
        if len(line.encode("utf-8")) <= limit:
            out_lines.append(line)
            verbatim = _verbatim_after(line, verbatim)
            continue
        folded, verbatim = _fold_line(line, limit, verbatim)
        out_lines.append(folded)
    return "\n".join(out_lines)


def _verbatim_after(line: str, verbatim: int) -> int:
    for token in _TAG_OR_TEXT.split(line):
        if token.startswith("<"):
            if _PRE_CLOSE.match(token):
                verbatim = max(0, verbatim - 1)
            elif _PRE_OPEN.match(token):
                verbatim += 1
    return verbatim


def _fold_line(line: str, limit: int, verbatim: int = 0) -> tuple[str, int]:
    pieces: list[str] = []
    width = 0
    for token in _TAG_OR_TEXT.split(line):
        if not token:
            continue
        if token.startswith("<"):
            if _PRE_CLOSE.match(token):
                verbatim = max(0, verbatim - 1)
            chunks = _split_tag(token)
            if _PRE_OPEN.match(token):
                verbatim += 1
        else:
            chunks = token.split(" ") if not verbatim else [token]
            chunks = [c + " " for c in chunks[:-1]] + [chunks[-1]]
        for chunk in chunks:
            size = len(chunk.encode("utf-8"))
            if width + size > limit and width and pieces and pieces[-1].endswith(" "):
                pieces[-1] = pieces[-1][:-1] + "\n"
                width = 0
            pieces.append(chunk)
            width += size
    return "".join(pieces), verbatim


def _split_tag(tag: str) -> list[str]:
    """A tag cut after each space that is outside quotes (between attributes)."""
    chunks, start, quote_char = [], 0, ""
    for i, ch in enumerate(tag):
        if quote_char:
            if ch == quote_char:
                quote_char = ""
        elif ch in "\"'":
            quote_char = ch
        elif ch == " ":
            chunks.append(tag[start : i + 1])
            start = i + 1
    chunks.append(tag[start:])
    return chunks


class _Part:
    """One body part, split at its placeholders."""

    def __init__(
        self, text: str, content_type: bytes, escape: bool, pattern: re.Pattern[str]
    ) -> None:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        if escape:
            text = fold_html(text)
        text = text.replace("\n", "\r\n")
        pieces = pattern.split(text)
        self.statics = [p.encode("utf-8") for p in pieces[0::2]]
        self.keys = pieces[1::2]
        self.escape = escape
        self.content_type = content_type
        # For each line that holds placeholders: its fixed length and which ones it holds,
        # so the 998-octet limit is checked per message with a few additions.
        self.checks: list[tuple[int, list[int]]] = []
        self.static_too_long = False
        fixed, held = 0, list[int]()
        for i, static in enumerate(self.statics):
            lines = static.split(b"\r\n")
            if len(lines) > 1:
                if held or fixed + len(lines[0]) > MAX_LINE:
                    self.checks.append((fixed + len(lines[0]), held))
                if any(len(x) > MAX_LINE for x in lines[1:-1]):
                    self.static_too_long = True
                fixed, held = len(lines[-1]), []
            else:
                fixed += len(lines[0])
            if i < len(self.keys):
                held.append(i)
        if held or fixed > MAX_LINE:
            self.checks.append((fixed, held))
        if any(f > MAX_LINE for f, keys in self.checks if not keys):
            self.static_too_long = True

    def render(self, values: dict[str, bytes], eight_bit: bool = True) -> bytes:
        """The part with its headers; 8bit when allowed and every line fits, else base64."""
        statics, keys = self.statics, self.keys
        filled = [values.get(k, b"") for k in keys]
        pieces = [statics[0]]
        for value, static in zip(filled, statics[1:], strict=True):
            pieces.append(value)
            pieces.append(static)
        body = b"".join(pieces)
        fits = (
            eight_bit
            and not self.static_too_long
            and all(
                fixed + sum(len(filled[k]) for k in held) <= MAX_LINE for fixed, held in self.checks
            )
        )
        if fits:
            return (
                b"Content-Type: " + self.content_type + b"\r\n"
                b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body
            )
        encoded = base64.encodebytes(body).replace(b"\n", b"\r\n")
        return (
            b"Content-Type: " + self.content_type + b"\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded
        )


def _placeholder_key_of(meta: bytes) -> str:
    """The placeholder key recorded in an ``email.json``, or ``""``."""
    try:
        data = json.loads(meta)
    except ValueError:
        return ""
    key = data.get("placeholder_key") if isinstance(data, dict) else None
    return key if isinstance(key, str) and _PLACEHOLDER_KEY.fullmatch(key) else ""


def without_key(text: bytes, key: str) -> bytes:
    """``text`` with the render's placeholder key taken out: two renders of the same
    content compare equal, whatever keys they drew."""
    return text.replace(key.encode("ascii"), b"") if key else text


def files_hash(contents: list[bytes]) -> str:
    """The hash of an edition's rendered email files (what an approval is tied to), the
    same for every render of the same content: the placeholder key is left out."""
    key = _placeholder_key_of(contents[-1]) if contents else ""
    digest = hashlib.sha256()
    for data in contents:
        data = without_key(data, key)
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


class EditionMessage:
    """An edition's email for every subscriber: ``build(recipient)`` makes one message."""

    def __init__(
        self,
        edition_id: str,
        subject: str,
        html_body: str,
        text_body: str,
        sender: Sender,
        signer: Signer,
        *,
        placeholder_key: str,
        dkim: DkimSigner | None = None,
        clock: Callable[[], float] = time.time,
        subject_prefix: str = "",
    ) -> None:
        """``placeholder_key`` is the key of the render that made the bodies (its
        ``email.json``): only placeholders with this key are filled in; ``subject_prefix``
        goes before the subject (a test copy's ``[TEST]``)."""
        self.edition_id = edition_id
        self.sender = sender
        self.signer = signer
        self.dkim = dkim
        self.clock = clock
        self.subject = one_line(subject_prefix + subject)
        self.files_hash = ""
        """The hash of the rendered files this message was read from (see :func:`files_hash`)."""
        # What was rendered, not which render: a render of the same content again is the
        # same version for the delivery log (see sending.prepare).
        self.content_hash = hashlib.sha256(
            b"\0".join(
                without_key(x.encode("utf-8"), placeholder_key)
                for x in (self.subject, html_body, text_body)
            )
        ).hexdigest()
        self.boundary = "=_nr_" + self.content_hash[:28]
        pattern = placeholder_pattern(placeholder_key)
        self.text = _Part(text_body, b'text/plain; charset="utf-8"', False, pattern)
        self.html = _Part(html_body, b'text/html; charset="utf-8"', True, pattern)
        subject_header = encode_header(self.subject, "Subject")
        fixed = [
            f"From: {sender.from_header}",
            f"Subject: {subject_header}",
            "MIME-Version: 1.0",
            f"List-Id: {sender.list_id}",
        ]
        if sender.reply_to:
            fixed.append(f"Reply-To: {sender.reply_to}")
        fixed.append(f'Content-Type: multipart/alternative; boundary="{self.boundary}"')
        self._fixed = ("\r\n".join(fixed) + "\r\n").encode("utf-8")
        b = self.boundary.encode("ascii")
        self._open, self._mid = b"\r\n--" + b + b"\r\n", b"\r\n--" + b + b"\r\n"
        self._close = b"\r\n--" + b + b"--\r\n"
        self._preamble = b"This is a multi-part message in MIME format.\r\n"
        self._date_at, self._date = -1, ""

    @classmethod
    def from_files(
        cls,
        edition_dir: Path,
        edition_id: str,
        sender: Sender,
        signer: Signer,
        **kwargs: Any,
    ) -> EditionMessage:
        """The message of an edition rendered to ``edition_dir`` (email.html, email.txt,
        email.json)."""
        try:
            raw = [(edition_dir / name).read_bytes() for name in RENDERED_FILES]
            html_body, text_body = raw[0].decode("utf-8"), raw[1].decode("utf-8")
            meta = json.loads(raw[2])
        except FileNotFoundError as exc:
            raise BuildError(
                f"edition {edition_id!r} has no rendered email ({exc.filename}); run "
                f"`newsroom render {edition_id}` first"
            ) from None
        except (OSError, ValueError) as exc:
            raise NewsroomError(f"cannot read the email of edition {edition_id!r}: {exc}") from None
        key = _placeholder_key_of(raw[2])
        if not key:
            # An email rendered before placeholders had keys: its placeholders cannot be
            # told from ones a feed wrote, so it is not sent.
            raise NewsroomError(
                f"the email of edition {edition_id!r} has no placeholder key in email.json "
                f"(it was rendered by an older newsroom); run `newsroom render {edition_id}` "
                "again before sending it"
            )
        message = cls(
            edition_id,
            str(meta.get("subject", "")),
            html_body,
            text_body,
            sender,
            signer,
            placeholder_key=key,
            **kwargs,
        )
        message.files_hash = files_hash(raw)
        return message

    # -- per recipient ------------------------------------------------------------------

    def links(self, recipient: Recipient) -> dict[str, str]:
        """The recipient's unsubscribe and preferences URLs (at ``newsroom serve``)."""
        token = self.signer.subscriber_token(recipient.uid)
        base = self.sender.subscriptions_url
        return {
            "unsubscribe_url": f"{base}unsubscribe/{token}",
            "preferences_url": f"{base}preferences/{token}",
            "token": token,
        }

    def message_id(self, recipient: Recipient) -> str:
        # The same for every attempt at one (edition, subscriber): a copy sent twice after a
        # crash carries the same Message-ID, which receiving systems use to drop duplicates.
        return message_id_for(self.edition_id, recipient.uid, self.sender.domain)

    def build(
        self, recipient: Recipient, *, eight_bit: bool = True, message_id: str = ""
    ) -> OutgoingMessage:
        """The complete message for one recipient; ``eight_bit=False`` for a server
        without 8BITMIME (bodies as base64); ``message_id`` replaces the stable one."""
        if self.dkim is not None:
            # A relay without 8BITMIME re-encodes 8-bit bodies, which breaks the signature's
            # body hash: signed bodies go as base64, which no relay needs to touch.
            eight_bit = False
        links = self.links(recipient)
        name = clean_name(recipient.name)
        text_values = {
            "subscriber_name": name,
            "subscriber_email": recipient.email,
            "unsubscribe_url": links["unsubscribe_url"],
            "preferences_url": links["preferences_url"],
        }
        for key, value in recipient.attributes.items():
            text_values[f"subscriber_attr:{key}"] = one_line(str(value))[:500]
        plain = {k: v.encode("utf-8") for k, v in text_values.items()}
        escaped = {k: html.escape(v).encode("utf-8") for k, v in text_values.items()}

        envelope_to, smtputf8 = ascii_address(recipient.email)
        message_id = message_id or self.message_id(recipient)
        now = int(self.clock())
        if now != self._date_at:
            self._date_at, self._date = now, formatdate(now, usegmt=True)
        # RFC 8058 one-click: mail programs POST to the https link. The mailto: is offered
        # only when a [mailbox] is read (sender.unsubscribe_mailto is empty otherwise).
        unsubscribe = f"<{links['unsubscribe_url']}>"
        if self.sender.unsubscribe_mailto:
            mailto = unsubscribe_mailto(self.sender.unsubscribe_mailto, links["token"])
            unsubscribe += f",\r\n <{mailto}>"
        headers = [
            f"Date: {self._date}",
            f"Message-ID: {message_id}",
            f"To: {format_address(name, envelope_to if not smtputf8 else recipient.email)}",
            f"List-Unsubscribe: {unsubscribe}",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        ]
        head = self._fixed + ("\r\n".join(headers) + "\r\n").encode("utf-8")
        data = b"".join(
            (
                head,
                b"\r\n",
                self._preamble,
                self._open[2:],
                self.text.render(plain, eight_bit),
                self._mid,
                self.html.render(escaped, eight_bit),
                self._close,
            )
        )
        if self.dkim is not None:
            data = self.dkim.sign(data)
        return OutgoingMessage(
            Envelope(self.sender.address, envelope_to, smtputf8), data, message_id
        )


class DkimSigner:
    """DKIM signatures (dkimpy) over the headers that matter, List-Unsubscribe included."""

    def __init__(self, key_file: Path, selector: str, domain: str) -> None:
        try:
            import dkim  # type: ignore[import-untyped]  # noqa: F401
        except ImportError:
            raise ConfigError(
                "[email] dkim_key_file is set, but DKIM signing needs dkimpy: "
                f"pip install '{DISTRIBUTION}[service]'"
            ) from None
        if not selector:
            raise ConfigError("[email] dkim_key_file needs dkim_selector too")
        try:
            self.key = key_file.read_bytes()
        except OSError as exc:
            raise ConfigError(f"[email] cannot read the DKIM key {key_file}: {exc}") from None
        self.selector = selector.encode("ascii")
        self.domain = domain.encode("idna")

    def sign(self, data: bytes) -> bytes:
        import dkim

        signature = dkim.sign(
            data,
            self.selector,
            self.domain,
            self.key,
            include_headers=_DKIM_HEADERS * 2,
            linesep=b"\r\n",
        )
        return bytes(signature) + data
