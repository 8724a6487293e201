"""The ``mailgun`` transport: Mailgun's sending API, with the message as it was built.

Each message is posted whole to ``/v3/<domain>/messages.mime`` (multipart: ``to`` and the
MIME ``message``), so its DKIM signature, its List-Unsubscribe headers and its Message-ID
reach Mailgun unchanged. The API key comes from the environment (``api_key = { "$env" =
"MAILGUN_API_KEY" }``). A 429 or 5xx answer is a temporary failure (the sender retries
after its backoff), a refused key (401, 403) or an unknown domain (404) stops the send, any
other 4xx refuses this message only, and a request sent whole whose answer never came is
``uncertain``: not sent again unless asked.
"""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import Field, SecretStr, field_validator

from newsroom import Options as BaseOptions
from newsroom.core.transport import (
    Channel,
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
    Transport,
    TransportContext,
    UncertainDelivery,
)


class MailgunOptions(BaseOptions):
    domain: str
    """The sending domain as Mailgun knows it, e.g. ``mg.example.org``."""
    api_key: SecretStr
    """The domain's sending key: ``{ "$env" = "MAILGUN_API_KEY" }``."""
    base_url: str = "https://api.mailgun.net"
    """``https://api.eu.mailgun.net`` for an account in the EU region."""
    timeout: float = Field(30, gt=0)
    """Seconds to connect, and to wait for each answer."""

    @field_validator("domain")
    @classmethod
    def _domain(cls, value: str) -> str:
        if not value or any(c in value for c in "/?#@ \t\r\n"):
            raise ValueError("must be a domain name, e.g. mg.example.org")
        return value

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError("must be an https URL")
        return value.rstrip("/")


class MailgunTransport(Transport):
    """Mailgun's HTTP sending API (MIME messages)."""

    name = "mailgun"
    Options = MailgunOptions

    async def open(self, ctx: TransportContext) -> Channel:
        options: MailgunOptions = self.options
        client = httpx.AsyncClient(
            timeout=options.timeout,
            auth=("api", options.api_key.get_secret_value()),
            follow_redirects=False,
        )
        return MailgunChannel(client, f"{options.base_url}/v3/{options.domain}/messages.mime")


class MailgunChannel(Channel):
    def __init__(self, client: httpx.AsyncClient, url: str) -> None:
        self.client = client
        self.url = url

    async def send(self, message: OutgoingMessage) -> None:
        try:
            response = await self.client.post(
                self.url,
                data={"to": message.envelope.recipient},
                files={"message": ("message.eml", message.data, "message/rfc822")},
            )
        except httpx.ReadTimeout:
            raise UncertainDelivery(f"{self.url} did not answer in time") from None
        except httpx.RemoteProtocolError as exc:
            raise UncertainDelivery(f"{self.url} closed the connection: {exc}") from None
        except httpx.TransportError as exc:
            failure = TemporaryFailure(f"{self.url}: {exc}", stage="connect")
            failure.connection_lost = True
            raise failure from None
        status = response.status_code
        if status < 300:
            return
        text = f"Mailgun {status}: {_message(response)}"
        if status == 429 or status >= 500:
            raise TemporaryFailure(text, code=status)
        if status in (401, 403):
            raise PermanentFailure(text, code=status, stage="auth")
        if status == 404:
            raise PermanentFailure(text, code=status, stage="mail")
        raise PermanentFailure(text, code=status, stage="data")

    async def close(self) -> None:
        await self.client.aclose()


def _message(response: httpx.Response) -> str:
    try:
        data: Any = response.json()
    except ValueError:
        return response.text[:200]
    return str(data.get("message", ""))[:200] if isinstance(data, dict) else ""
