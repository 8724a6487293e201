"""The ``smtp`` transport: persistent aiosmtplib connections, one per channel."""

from __future__ import annotations

import os
import re
import ssl
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr

from newsroom import Options as BaseOptions
from newsroom.core.errors import ConfigError
from newsroom.core.transport import (
    Channel,
    DeliveryFailure,
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
    Transport,
    TransportContext,
    UncertainDelivery,
)

if TYPE_CHECKING:
    import aiosmtplib

PASSWORD_ENV = "NEWSROOM_SMTP_PASSWORD"


def _recipient_stage(code: int, message: str) -> str:
    """What a 5xx reply to RCPT says about the address: ``rcpt`` when the address itself is
    bad (5.1.x: no such user, bad domain; or plain 550/551/553), ``policy`` for policy and
    security refusals (5.7.x, 554: a relay that will not take this mail, a blocklist),
    ``recipient`` for the rest (a full mailbox): only ``rcpt`` marks the subscriber bounced."""
    enhanced = _ENHANCED.match(message.strip())
    if enhanced:
        detail = enhanced.group(1)
        return "rcpt" if detail == "1" else "policy" if detail == "7" else "recipient"
    if code in (550, 551, 553):
        return "rcpt"
    return "policy" if code == 554 else "recipient"


_ENHANCED = re.compile(r"5\.(\d{1,3})\.\d{1,3}\b")


def _failure(code: int, message: str, stage: str) -> DeliveryFailure:
    if stage == "rcpt" and 500 <= code < 600:
        stage = _recipient_stage(code, message)
    cls = PermanentFailure if 500 <= code < 600 else TemporaryFailure
    failure = cls(message.strip() or "(no message)", code=code, stage=stage)
    if code == 421 or code < 400:  # 421: the server is closing the connection
        failure.connection_lost = True
    return failure


def wire_data(data: bytes) -> bytes:
    """``data`` as it goes after ``DATA``: every line ending CRLF, a leading dot doubled
    (RFC 5321 4.5.2), then the ending ``.`` line. The same bytes as aiosmtplib's
    ``data()`` makes, at a fraction of the cost for a message already in CRLF form."""
    crlf = data.count(b"\r\n")
    if data.count(b"\n") != crlf or data.count(b"\r") != crlf:
        from aiosmtplib.protocol import normalize_message_line_endings

        data = normalize_message_line_endings(data)
    elif not data.endswith(b"\r\n"):
        data += b"\r\n"
    if b"\r\n." in data:
        data = data.replace(b"\r\n.", b"\r\n..")
    if data.startswith(b"."):
        data = b"." + data
    return data + b".\r\n"


def _certificate_problem(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) is a failed TLS certificate check."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class SmtpTransport(Transport):
    """Deliver through an SMTP server (a relay, a provider's submission port, a local MTA)."""

    name = "smtp"
    description = "SMTP with a pool of persistent connections (aiosmtplib)"

    class Options(BaseOptions):
        host: str = "localhost"
        port: int = Field(0, ge=0, le=65535)
        """Default: 465 with ``security = "tls"``, 587 with ``"starttls"``, else 25."""
        security: Literal["auto", "starttls", "tls", "none"] = "auto"
        """``auto``: STARTTLS when the server offers it; ``starttls``: required; ``tls``:
        implicit TLS (port 465); ``none``: never (a local relay)."""
        username: str = ""
        password: SecretStr | None = None
        """Default: ``$NEWSROOM_SMTP_PASSWORD`` when a username is set."""
        timeout: float = Field(30.0, gt=0)
        """Seconds to wait for each reply, but the one to the end of a message."""
        data_timeout: float = Field(600.0, gt=0)
        """Seconds to wait for the reply to the end of a message: RFC 5321 (4.5.3.2.6) asks
        for 10 minutes, since a server may check the whole message before it answers. A
        message whose reply never comes may have been delivered: it is recorded as
        ``uncertain`` and not sent again unless asked (``send --resend-uncertain``)."""
        helo: str = ""
        """Name to greet the server with (default: this machine's name)."""
        validate_certs: bool = True
        ca_file: str = ""

    options: Options

    async def open(self, ctx: TransportContext) -> Channel:
        import aiosmtplib  # imported when sending, not whenever a config is read

        o = self.options
        password = o.password.get_secret_value() if o.password else os.environ.get(PASSWORD_ENV)
        if o.username and not password:
            raise ConfigError(
                f"[transport] (plugin 'smtp'): username {o.username!r} needs a password: "
                f'set {PASSWORD_ENV} or password = {{ "$env" = "..." }}'
            )
        port = o.port or {"tls": 465, "starttls": 587}.get(o.security, 25)
        tls_context = None
        if o.ca_file:
            tls_context = ssl.create_default_context(cafile=str(ctx.root / o.ca_file))
        client = aiosmtplib.SMTP(
            hostname=o.host,
            port=port,
            username=o.username or None,
            password=password if o.username else None,
            local_hostname=o.helo or None,
            timeout=o.timeout,
            use_tls=o.security == "tls",
            start_tls={"auto": None, "starttls": True, "tls": False, "none": False}[o.security],
            validate_certs=o.validate_certs,
            tls_context=tls_context,
        )
        where = f"{o.host}:{port}"
        try:
            await client.connect()
            if client.last_ehlo_response is None:
                await client.ehlo()  # so the channel knows the server's extensions
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise PermanentFailure(
                f"{where} refused the login for {o.username!r}: {exc.message}",
                code=exc.code,
                stage="auth",
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise _failure(exc.code, f"{where}: {exc.message}", "connect") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            if isinstance(exc, aiosmtplib.SMTPException) and not isinstance(
                exc, ConnectionError | TimeoutError
            ):
                # The server cannot do what the config asks (STARTTLS or AUTH not offered):
                # retrying will not help, and sending in clear is not an option.
                raise PermanentFailure(f"{where}: {exc}", stage="connect") from None
            if _certificate_problem(exc):
                raise PermanentFailure(
                    f"{where}: its TLS certificate is not trusted ({exc}); fix the server's "
                    "certificate or name the CA with ca_file",
                    stage="connect",
                ) from None
            failure = TemporaryFailure(f"cannot connect to {where}: {exc}", stage="connect")
            failure.connection_lost = True
            raise failure from None
        return SmtpChannel(client, where, o.data_timeout)


class SmtpChannel(Channel):
    """One open SMTP connection; many messages go through it, one after another."""

    def __init__(self, client: aiosmtplib.SMTP, where: str, data_timeout: float = 600.0) -> None:
        self.client = client
        self.where = where
        self.data_timeout = data_timeout
        self.accepts_8bit = client.supports_extension("8bitmime")
        self.utf8 = client.supports_extension("smtputf8")
        self.size = client.supports_extension("size")

    async def send(self, message: OutgoingMessage) -> None:
        import aiosmtplib

        data = message.data
        env = message.envelope
        options = []
        if not data.isascii():
            # The sender builds 7-bit messages for channels without 8BITMIME (accepts_8bit).
            options.append("BODY=8BITMIME")
        if env.smtputf8:
            if not self.utf8:
                raise PermanentFailure(
                    f"{self.where} cannot deliver to the non-ASCII address {env.recipient!r} "
                    "(no SMTPUTF8)",
                    stage="recipient",  # the server's limit, not the address's fault
                )
            options.append("SMTPUTF8")
        if self.size:
            # Our messages already end lines with CRLF: the size is the byte count.
            options.insert(0, f"SIZE={len(data)}")
        encoding = "utf-8" if env.smtputf8 else "ascii"
        stage = "mail"
        try:
            await self.client.mail(env.sender, options=options, encoding=encoding)
            stage = "rcpt"
            await self.client.rcpt(env.recipient, encoding=encoding)
            stage = "data"
            await self._data(data)
        except aiosmtplib.SMTPResponseException as exc:
            await self._reset()
            raise _failure(exc.code, exc.message, stage) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Dropped connections and timeouts: the server did not take the message.
            failure = TemporaryFailure(f"{self.where}: {exc or type(exc).__name__}", stage=stage)
            failure.connection_lost = True
            raise failure from None

    async def _data(self, data: bytes) -> None:
        """``DATA`` and the message, as ``client.data()`` sends them, without its two regex
        passes over every message: ours already end their lines with CRLF (checked here),
        so only dot-stuffing is left, and most messages need none."""
        import aiosmtplib

        client, protocol = self.client, self.client.protocol
        if protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        start = await client.execute_command(b"DATA")
        if start.code != 354:
            raise aiosmtplib.SMTPDataError(start.code, start.message)
        try:
            protocol.write(wire_data(data))
            reply = await protocol.read_response(timeout=self.data_timeout)
        except aiosmtplib.SMTPTimeoutError:
            client.close()  # the connection is out of step
            # The server has the whole message and may be delivering it: sending it again
            # could mail the reader twice (RFC 5321 4.5.3.2.6), so nobody retries it.
            raise UncertainDelivery(
                f"{self.where} did not answer the end of the message within "
                f"{self.data_timeout:g} s; it may have been delivered"
            ) from None
        except aiosmtplib.SMTPServerDisconnected as exc:
            client.close()  # as client.data() does: the connection is out of step
            # Most servers that hang up here did not take the message (they crashed or
            # gave up on it), so it is tried again, as MTAs do; the log says what it risks.
            failure = TemporaryFailure(
                f"{self.where} closed the connection before answering the end of the message "
                f"({exc}); it is sent again and may arrive twice",
                stage="data",
            )
            failure.connection_lost = True
            raise failure from None
        if reply.code != 250:
            raise aiosmtplib.SMTPDataError(reply.code, reply.message)

    async def _reset(self) -> None:
        import aiosmtplib

        try:
            await self.client.rset()
        except (aiosmtplib.SMTPException, OSError):
            pass

    async def close(self) -> None:
        import aiosmtplib

        try:
            if self.client.is_connected:
                await self.client.quit()
        except (aiosmtplib.SMTPException, OSError):
            self.client.close()
