"""The delivery contract: how a finished message leaves newsroom.

A :class:`Transport` is a component registered with the ``register_transports`` hook and
selected by ``[transport] plugin = "..."``. The sender opens one :class:`Channel` per
concurrent worker (an SMTP connection, an HTTP client) and hands it one message at a time.
A channel says how a message failed by raising :class:`TemporaryFailure` (retry later: 4xx
replies, dropped connections, timeouts) or :class:`PermanentFailure` (never retry: 5xx),
or that nobody can tell, with :class:`UncertainDelivery` (the whole message was handed over
and the answer never came: it may have been delivered, so it is not sent again unless the
user asks).
Everything else about delivery (the log, retries, rate limits, resuming) is the sender's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from newsroom.core.components import Component


@dataclass(frozen=True)
class Envelope:
    """Who a message is from and to, at the SMTP level."""

    sender: str
    recipient: str
    smtputf8: bool = False
    """The recipient's address has a non-ASCII local part (RFC 6531)."""


@dataclass(frozen=True)
class OutgoingMessage:
    """A complete message: RFC 5322 bytes with CRLF line ends, 8-bit clean bodies."""

    envelope: Envelope
    data: bytes
    message_id: str = ""


class DeliveryFailure(Exception):
    """A message was not delivered. ``code`` is the SMTP reply code, when there was one."""

    def __init__(self, message: str, *, code: int | None = None, stage: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.stage = stage
        """Where it failed: ``connect``, ``auth``, ``mail``, ``rcpt``, ``data``, ``policy``,
        ``recipient``, or ``""``."""
        self.connection_lost = False
        """The channel is unusable now; the sender opens a new one."""

    def __str__(self) -> str:
        text = super().__str__()
        return f"{self.code} {text}" if self.code and not text.startswith(str(self.code)) else text


class TemporaryFailure(DeliveryFailure):
    """Try again later: a 4xx reply, a refused or dropped connection, a timeout."""


class PermanentFailure(DeliveryFailure):
    """Do not try again: a 5xx reply.

    ``stage == "rcpt"`` means the address itself was refused (the subscriber is marked
    bounced); ``"mail"``, ``"auth"`` and ``"connect"`` (the sender, the login or the
    connection was refused) stop the whole send, since every message would fail the same
    way; any other stage (``"data"``, ``"policy"``, ``"recipient"``) bounces this message
    only and leaves the subscriber active.
    """


class UncertainDelivery(DeliveryFailure):
    """The message was handed over whole, but the server's answer never came (an SMTP
    reply to the end of the message, an API call that timed out after the request was
    sent). It may have been delivered: the sender records it as ``uncertain`` and does not
    send it again unless asked (``newsroom send --resend-uncertain``)."""

    def __init__(self, message: str, *, code: int | None = None, stage: str = "data") -> None:
        super().__init__(message, code=code, stage=stage)
        self.connection_lost = True


@dataclass
class TransportContext:
    """What a transport may read when it opens channels."""

    root: Path
    """The folder that holds newsroom.toml."""
    edition_id: str = ""
    output_dir: Path = field(default_factory=Path.cwd)
    """The edition's folder (the ``file`` transport writes there by default)."""


@dataclass(frozen=True)
class SendingQuota:
    """What an email service lets the account send now (:meth:`Transport.sending_quota`)."""

    rate: float | None = None
    """Messages per second at most; caps ``[email] rate``."""
    remaining: int | None = None
    """Messages the account may still send in its current period (a day); a run sends no
    more, and the rest waits for the next run."""
    source: str = ""
    """Where the figures come from, for the report."""


class Channel(ABC):
    """One connection's worth of delivery. Used by one worker at a time."""

    accepts_8bit: bool = True
    """Whether 8-bit bodies may be sent (SMTP's 8BITMIME); if not, the sender builds
    messages whose bodies are base64."""

    @abstractmethod
    async def send(self, message: OutgoingMessage) -> None:
        """Deliver one message, or raise a :class:`DeliveryFailure`."""

    async def close(self) -> None:  # noqa: B027 - optional for channels with nothing to close
        """Release the connection; never raises."""


class Transport(Component, ABC):
    """A delivery backend. Register with ``register_transports``."""

    @abstractmethod
    async def open(self, ctx: TransportContext) -> Channel:
        """A new channel (connection). Raise :class:`DeliveryFailure` when none can be had."""

    def sending_quota(self) -> SendingQuota | None:
        """The service's limits for the account, read once before a send; ``None`` (the
        default) when there are none to read. Raise :class:`DeliveryFailure` when the
        service cannot be asked."""
        return None
