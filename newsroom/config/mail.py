"""The ``[email]`` and ``[subscriptions]`` tables of ``newsroom.toml``.

``[email]`` says who sends the newsletter and how fast; ``[transport]`` (validated by the
transport plugin's own options) says through what; ``[subscriptions]`` configures the links
in every message and ``newsroom serve``, which answers them. Secrets (the SMTP password, the
signing keys, the webhook secret, the DKIM key) are never written here.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator

from newsroom.core.urls import is_loopback


class EmailConfig(BaseModel):
    """The ``[email]`` table."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field("", alias="from")
    """The sender, e.g. ``"AI 브리핑 <briefing@example.org>"``; required to send."""
    reply_to: str = ""
    """Where replies go, when not to the sender."""
    list_id: str = ""
    """The ``List-Id`` (RFC 2919), e.g. ``ai-briefing.example.org``; default: the sender's
    address with ``.`` for ``@`` (``briefing.example.org``). Set it when two newsletters
    send from one address; keep it once readers filter on it."""
    postal_address: str = ""
    """The sender's postal address, printed in every message's footer (CAN-SPAM)."""
    unsubscribe_mailto: str = ""
    """Address for unsubscribing by mail (default: the sender). Offered in
    ``List-Unsubscribe`` only when a ``[mailbox]`` is configured, which ``newsroom mailbox``
    (and ``newsroom run``) reads; without one it is left out, so no reader is told to
    unsubscribe in a way that does nothing. Mails to it must land in that mailbox."""
    rate: float = Field(0, ge=0)
    """Messages per second across all connections; 0: as fast as the server takes them."""
    hourly_limit: int = Field(0, ge=0)
    """Messages per hour (a provider's quota); 0: no limit."""
    concurrency: int = Field(10, ge=1, le=200)
    """Connections kept open to the server at once."""
    workers: int = Field(0, ge=0, le=64)
    """Sending processes, each with a share of the connections and the rate; 0: one."""
    retries: int = Field(4, ge=0, le=20)
    """Attempts after the first, per message and run, for temporary failures."""
    backoff: float = Field(1.0, ge=0)
    """Seconds before the first retry; doubled for each next one."""
    stop_after_rejections: int = Field(50, ge=0)
    """Stop the send after this many consecutive permanent failures (the server is
    refusing everything; 0: never stop)."""
    require_approval: bool = False
    """``newsroom send`` sends only an edition approved with ``newsroom approve`` as it is
    rendered now (exit code 10 otherwise); test copies (``--to``) and dry runs need none."""
    require_review: bool = False
    """``newsroom send`` and ``newsroom run`` hold an edition whose ``newsroom review`` finds
    errors (exit code 12); test copies (``--to``) and dry runs are not held."""
    dkim_key_file: str = ""
    """PEM private key for DKIM signing (relative to the config; keep it outside the
    repository). Signing needs the ``service`` extra (dkimpy)."""
    dkim_selector: str = ""
    """The selector of the DKIM key's DNS record (``<selector>._domainkey.<domain>``)."""
    dkim_domain: str = ""
    """Default: the sender's domain."""

    @field_validator("from_", "reply_to", "unsubscribe_mailto")
    @classmethod
    def _address(cls, value: str) -> str:
        if not value:
            return value
        if any(c in value for c in "\r\n"):
            raise ValueError("must be on one line")
        _, address = parseaddr(value)
        if "@" not in address:
            raise ValueError(f"{value!r} has no email address")
        return value

    @field_validator("list_id", "dkim_selector", "dkim_domain", "postal_address")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if any(c in value for c in "\r\n\0"):
            raise ValueError("must be on one line")
        return value.strip()


class MailboxConfig(BaseModel):
    """The ``[mailbox]`` table: the IMAP mailbox where bounces and mailed unsubscribe
    requests arrive (the sender's address, or ``unsubscribe_mailto``'s), read by
    ``newsroom mailbox`` and ``newsroom run``."""

    model_config = ConfigDict(extra="forbid")

    host: str
    """The IMAP server."""
    port: int = Field(0, ge=0, le=65535)
    """Default: 993 for ``tls``, 143 otherwise."""
    security: Literal["tls", "starttls", "none"] = "tls"
    """``none`` (no encryption) only to a server on this machine (127.0.0.1, localhost)."""
    user: str
    password: SecretStr
    """``{ "$env" = "NEWSROOM_IMAP_PASSWORD" }``."""
    folder: str = "INBOX"
    """Where bounces and requests arrive."""
    done_folder: str = "newsroom-handled"
    """Where what was handled is moved (created when missing); the rest stays."""
    timeout: float = Field(30, gt=0)

    @field_validator("host", "user", "folder", "done_folder")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if not value.strip() or any(c in value for c in "\r\n\0"):
            raise ValueError("must be one non-empty line")
        return value.strip()

    @field_validator("security")
    @classmethod
    def _plain_only_here(cls, value: str, info: ValidationInfo) -> str:
        host = info.data.get("host")
        if value == "none" and not is_loopback(host):
            raise ValueError(
                f"plain IMAP sends the password unencrypted: only to 127.0.0.1 or localhost, "
                f"not {host!r}; use tls or starttls"
            )
        return value

    @property
    def real_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)


#: One rate limit in the notation of the ``limits`` library: ``5/minute``, ``30 per hour``.
_LIMIT = re.compile(r"[1-9][0-9]*\s*(?:/|per)\s*(?:[1-9][0-9]*\s*)?(?:second|minute|hour|day)s?")


class SubscriptionsConfig(BaseModel):
    """The ``[subscriptions]`` table: links in messages, and ``newsroom serve``."""

    model_config = ConfigDict(extra="forbid")

    url: str = ""
    """Where ``newsroom serve`` is reachable from readers' browsers; unsubscribe and
    preferences links point there. Default: ``<base_url>subscription/``."""
    keys_file: str = "signing-keys"
    """File of signing keys, newest first (relative to the config; keep it out of version
    control). ``$NEWSROOM_SECRET_KEY`` is used first when set."""
    confirm_hours: float = Field(72, gt=0)
    """How long a signup confirmation link stays valid; a signup not confirmed by then is
    forgotten."""
    double_opt_in: bool = True
    """Signups get a confirmation email and stay ``pending`` until its link is used."""
    confirm_cooldown: float = Field(15, ge=0)
    """Minutes after a confirmation email before a signup for the same address sends it
    another one; signups in between send nothing (the first link still works)."""
    confirm_daily_limit: int = Field(3, ge=1)
    """Confirmation emails one address gets in 24 hours at most."""
    signup_limit: str = "5/minute;30/hour"
    """Signups one client may make (its IP address; for IPv6, its /64 network), as
    ``N/unit`` limits separated by ``;`` (units: second, minute, hour, day). More get
    HTTP 429."""
    signup_answer_seconds: float = Field(1.5, ge=0, le=30)
    """Every signup is answered this long after it arrived, whatever the address, so the
    answer's timing tells nothing about the list; a confirmation email still on its way
    then is finished in the background."""
    request_timeout: float = Field(20, gt=0)
    """Seconds a client has to send a whole request, headers and body; a slower one (a
    slowloris) is disconnected."""
    webhook_secret: SecretStr | None = None
    """Shared secret of the bounce and complaint webhook: ``{ "$env" = "..." }``."""
    webhook_max_age: float = Field(300, gt=0)
    """Seconds a webhook request's ``Newsroom-Timestamp`` may be away from the service's
    clock; older (replayed) or later requests are refused."""
    host: str = "127.0.0.1"
    """Where ``newsroom serve`` listens (behind a reverse proxy on the web edition's domain)."""
    port: int = Field(8025, ge=1, le=65535)

    @field_validator("signup_limit")
    @classmethod
    def _limits(cls, value: str) -> str:
        items = [item.strip() for item in value.split(";") if item.strip()]
        if not items or not all(_LIMIT.fullmatch(item) for item in items):
            raise ValueError(
                f'{value!r}: use limits such as "5/minute;30/hour" (N/second, minute, hour or day)'
            )
        return ";".join(items)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an absolute http(s) URL")
        if value and not value.endswith("/"):
            value += "/"
        return value


def subscriptions_problem(url: str) -> str:
    """Why messages cannot link to the subscription service at ``url``, or ``""``.

    Every message needs working unsubscribe and preferences links, and RFC 8058 one-click
    unsubscribe needs https; plain http is accepted only on loopback, for test setups."""
    if not url:
        return (
            "sending needs [subscriptions] url (or [newsletter] base_url): every message links "
            "there for one-click unsubscribe and preferences, and `newsroom serve` answers"
        )
    parts = urlsplit(url)
    if parts.scheme != "https" and not is_loopback(parts.hostname):
        return (
            f"[subscriptions] url {url!r} must be https: mail programs send one-click "
            "unsubscribes (RFC 8058) only to https addresses; plain http is for a test setup "
            "on 127.0.0.1 or localhost"
        )
    return ""
