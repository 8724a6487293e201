"""A real SMTP server on 127.0.0.1 that records what it receives (aiosmtpd).

For ``newsroom dev-smtp``, the offline demo, the tests and plugin authors' tests:
``with SmtpSink() as sink:`` starts it on a free port in a thread; ``sink.messages`` holds
every accepted message and ``sink.count(address)`` how many copies an address got.
:class:`Faults` makes it misbehave the way real servers do: ``421`` at the greeting,
``451``/``550`` for some recipients, connections dropped in the middle of ``DATA``, slow
replies.
"""

from __future__ import annotations

import asyncio
import collections
import email
import email.policy
import ssl
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Faults:
    """How the server misbehaves. Each rule sees the recipient and how many times that
    recipient has been tried so far (0 the first time)."""

    greeting_421: int = 0
    """Answer the first N connections with ``421`` and hang up."""
    max_connections: int = 0
    """Answer ``421`` to a connection beyond this many open at once (0: no limit), as
    providers that cap connections per client do."""
    mail: Callable[[str], str | None] = lambda sender: None
    """A reply such as ``"550 5.7.1 sender not allowed"`` to refuse ``MAIL FROM``."""
    rcpt: Callable[[str, int], str | None] = lambda address, attempt: None
    """A reply such as ``"451 4.3.0 try later"`` to refuse a recipient, or None."""
    drop_in_data: Callable[[str, int], bool] = lambda address, attempt: False
    """True: close the connection after the message arrived, before answering (the
    message is not accepted)."""
    delay: float = 0.0
    """Seconds to wait before answering each RCPT and DATA."""
    data_delay: Callable[[str, int], float] = lambda address, attempt: 0.0
    """Seconds to wait before answering the end of a message (as a server that scans whole
    messages does); the message is kept whether the client still waits for the answer or
    has hung up by then."""


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    def parsed(self) -> EmailMessage:
        message = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self.sink.faults.mail(address)
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        sink = self.sink
        if sink.faults.delay:
            await asyncio.sleep(sink.faults.delay)
        with sink.lock:
            attempt = sink.attempts[address]
            sink.attempts[address] += 1
        reply = sink.faults.rcpt(address, attempt)
        if reply:
            with sink.lock:
                sink.refused.append((address, reply))
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        sink = self.sink
        if sink.faults.delay:
            await asyncio.sleep(sink.faults.delay)
        data = envelope.original_content or envelope.content or b""
        assert isinstance(data, bytes)
        address = envelope.rcpt_tos[0] if envelope.rcpt_tos else ""
        with sink.lock:
            attempt = sink.data_attempts[address]
            sink.data_attempts[address] += 1
        if sink.faults.drop_in_data(address, attempt):
            with sink.lock:
                sink.dropped += 1
            assert server.transport is not None
            server.transport.abort()  # type: ignore[attr-defined]
            return "421 closing"  # never reaches the client
        received = Received(envelope.mail_from or "", list(envelope.rcpt_tos), data)
        with sink.lock:
            sink.messages.append(received)
            for rcpt in envelope.rcpt_tos:
                sink.counts[rcpt.lower()] += 1
            number = len(sink.messages) + sink.numbered_from
        path = None
        if sink.folder is not None:
            path = sink.folder / f"{number:06d}.eml"
            path.write_bytes(data)
        if sink.on_message is not None:
            sink.on_message(received, path)
        slow = sink.faults.data_delay(address, attempt)
        if slow:
            await asyncio.sleep(slow)  # kept already: only the answer is late
        return "250 2.0.0 OK: queued"


class _Server(SMTP):
    sink: SmtpSink

    async def _handle_client(self) -> None:
        sink = self.sink
        with sink.lock:
            sink.connections += 1
            limit = sink.faults.max_connections
            refuse = sink.connections <= sink.faults.greeting_421 or bool(
                limit and sink.open_connections >= limit
            )
            if not refuse:
                sink.open_connections += 1
        if refuse:
            await self.push("421 4.3.2 too busy, try again later")
            assert self.transport is not None
            self.transport.close()
            return
        try:
            await super()._handle_client()
        finally:
            with sink.lock:
                sink.open_connections -= 1


class _Controller(Controller):
    def __init__(self, sink: SmtpSink, **kwargs: Any) -> None:
        self.sink = sink
        super().__init__(_Handler(sink), **kwargs)

    def factory(self) -> SMTP:
        with warnings.catch_warnings():
            # Raised for AUTH over implicit TLS, which aiosmtpd takes for a clear connection.
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            server = _Server(self.handler, **self.SMTP_kwargs)
        server.sink = self.sink
        return server


@dataclass
class SmtpSink:
    """A recording SMTP server on loopback; use as a context manager."""

    faults: Faults = field(default_factory=Faults)
    folder: Path | None = None
    """Also write each accepted message to ``folder/000001.eml``, ..."""
    host: str = "127.0.0.1"
    port: int = 0
    """0: a free port, chosen when the server starts."""
    eight_bit: bool = True
    """Offer 8BITMIME (False: a server that takes only 7-bit messages)."""
    starttls: ssl.SSLContext | None = None
    """Offer STARTTLS with this server context."""
    implicit_tls: ssl.SSLContext | None = None
    """Speak TLS from the first byte (port 465 style)."""
    users: dict[str, str] | None = None
    """Require AUTH (over TLS) with one of these username/password pairs."""
    on_message: Callable[[Received, Path | None], None] | None = None
    """Called (in the server's thread) with each accepted message and its file, if any."""

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[Received] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self.attempts: collections.Counter[str] = collections.Counter()
        self.data_attempts: collections.Counter[str] = collections.Counter()
        self.refused: list[tuple[str, str]] = []
        self.connections = 0
        self.open_connections = 0
        self.dropped = 0
        self.numbered_from = 0
        """Files are numbered after those already in ``folder`` (a restart keeps them)."""
        self._controller: _Controller | None = None

    def start(self) -> SmtpSink:
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            numbers = [int(p.stem) for p in self.folder.glob("*.eml") if p.stem.isdigit()]
            self.numbered_from = max(numbers, default=0)
        if not self.port:
            import socket

            with socket.socket() as s:
                s.bind((self.host, 0))
                self.port = s.getsockname()[1]
        extra: dict[str, Any] = {}
        if self.starttls is not None:
            extra["tls_context"] = self.starttls
        if self.implicit_tls is not None:
            extra["ssl_context"] = self.implicit_tls
        if self.users is not None:
            # Over implicit TLS the whole connection is encrypted; aiosmtpd only knows about
            # STARTTLS, so it must not insist on it there.
            extra.update(
                auth_required=True,
                authenticator=self._authenticate,
                auth_require_tls=self.implicit_tls is None,
            )
        self._controller = _Controller(
            self,
            hostname=self.host,
            port=self.port,
            ready_timeout=10,
            data_size_limit=64 * 1024 * 1024,
            decode_data=not self.eight_bit,
            enable_SMTPUTF8=True,
            **extra,
        )
        self._controller.start()
        return self

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        users = self.users or {}
        if isinstance(data, LoginPassword):
            login, password = data.login.decode(), data.password.decode()
            if users.get(login) == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count(self, address: str) -> int:
        """How many accepted copies ``address`` received."""
        with self.lock:
            return self.counts[address.lower()]

    @property
    def total(self) -> int:
        with self.lock:
            return len(self.messages)
