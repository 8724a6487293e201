"""The ``ses`` transport: Amazon SES v2's ``SendEmail`` API with raw messages, through botocore.

Each message goes as it was built (``Content.Raw``), so the DKIM signature, the
List-Unsubscribe headers and the Message-ID newsroom made reach SES unchanged. botocore
signs the requests (SigV4), finds the credentials (``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY`` in the environment, or the machine's role: never newsroom.toml)
and retries throttled and failed calls with its own backoff (its ``standard`` mode). A
request whose answer never came is the one thing it is not allowed to retry: the message
may have been taken, and a second call would send it twice; it is reported as
:class:`~newsroom.UncertainDelivery` instead.

Throttling that outlasts botocore's retries is a :class:`~newsroom.TemporaryFailure` (the
sender tries again after its backoff); a paused or suspended account, refused credentials
or an unverified sender stop the send. Before sending, the account's quota
(``GetSendQuota``) caps the rate (``MaxSendRate``) and the number of messages this run
(what is left of ``Max24HourSend``): the rest waits for the next run.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from pydantic import Field

from newsroom import Options as BaseOptions
from newsroom.core.errors import ConfigError
from newsroom.core.transport import (
    Channel,
    DeliveryFailure,
    OutgoingMessage,
    PermanentFailure,
    SendingQuota,
    TemporaryFailure,
    Transport,
    TransportContext,
    UncertainDelivery,
)

if TYPE_CHECKING:
    from botocore.client import BaseClient

#: Error codes that mean "slow down": a temporary failure once botocore's retries are spent.
THROTTLING = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "LimitExceededException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "InternalFailure",
}
#: Error codes after which every message would fail the same way: the send stops.
STOP = {
    "AccountSuspendedException",
    "SendingPausedException",
    "MailFromDomainNotVerifiedException",
    "AccessDeniedException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "ExpiredTokenException",
    "NotFoundException",
}


class SesOptions(BaseOptions):
    region: str = ""
    """The AWS region of the SES account, e.g. ``eu-west-1`` (default: ``AWS_REGION``)."""
    configuration_set: str = ""
    """The SES configuration set every message is sent with (its event destinations send
    bounces and complaints to SNS: see docs/feedback.md)."""
    endpoint_url: str = ""
    """Another address for the SES API (a VPC endpoint, a local stand-in); default: AWS's."""
    timeout: float = Field(30, gt=0)
    """Seconds to connect, and to wait for each answer."""
    max_attempts: int = Field(3, ge=1, le=10)
    """Calls botocore makes for one message when SES throttles or fails (its standard
    retry mode, with its backoff)."""
    use_quota: bool = True
    """Read the account's sending quota before a send: its rate caps ``[email] rate``, and
    what is left of the day's quota caps the messages of this run."""


@dataclass
class _Shared:
    """One botocore client and thread pool for all of a transport's channels (botocore
    clients are thread-safe, and creating one costs tens of milliseconds)."""

    client: BaseClient
    pool: ThreadPoolExecutor
    channels: int = 0


class SesTransport(Transport):
    """Amazon SES v2 (raw messages) through botocore."""

    name = "ses"
    Options = SesOptions

    def __init__(self, options: Any = None, *, instance: str | None = None) -> None:
        super().__init__(options, instance=instance)
        self._shared: _Shared | None = None

    def client(self, service: str = "sesv2") -> BaseClient:
        try:
            import botocore.session
            from botocore.config import Config
        except ImportError:
            raise ConfigError(
                '[transport] plugin = "ses" needs botocore: '
                "pip install 'newsroom-digest[services]'"
            ) from None
        options: SesOptions = self.options
        session = botocore.session.get_session()
        config = Config(
            connect_timeout=options.timeout,
            read_timeout=options.timeout,
            retries={"mode": "standard", "total_max_attempts": options.max_attempts},
            max_pool_connections=64,
        )
        client = session.create_client(
            service,
            region_name=options.region or None,
            endpoint_url=options.endpoint_url or None,
            config=config,
        )
        # A read timeout or a connection closed while waiting for the answer: SES may have
        # taken the message, so it is never retried (an exception from this handler ends
        # botocore's retry loop and reaches the channel).
        client.meta.events.register_first(f"needs-retry.{service}.SendEmail", _no_blind_retry)
        return client

    def sending_quota(self) -> SendingQuota | None:
        options: SesOptions = self.options
        if not options.use_quota:
            return None
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            quota = self.client("ses").get_send_quota()
        except (BotoCoreError, ClientError) as exc:
            raise _failure(exc) from None
        day = float(quota.get("Max24HourSend", -1))
        left = None if day < 0 else max(0, int(day - float(quota.get("SentLast24Hours", 0))))
        rate = float(quota.get("MaxSendRate", 0)) or None
        return SendingQuota(rate=rate, remaining=left, source="the SES account's quota")

    async def open(self, ctx: TransportContext) -> Channel:
        if self._shared is None:
            try:
                client = self.client()
            except Exception as exc:  # no region, a malformed endpoint URL
                raise PermanentFailure(f"SES: {exc}", stage="connect") from None
            self._shared = _Shared(client, ThreadPoolExecutor(64, "newsroom-ses"))
        self._shared.channels += 1
        return SesChannel(self, self._shared)


class SesChannel(Channel):
    def __init__(self, transport: SesTransport, shared: _Shared) -> None:
        self.transport = transport
        self.shared = shared
        options: SesOptions = transport.options
        self.extra = (
            {"ConfigurationSetName": options.configuration_set} if options.configuration_set else {}
        )

    async def send(self, message: OutgoingMessage) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        call = partial(
            self.shared.client.send_email,
            Destination={"ToAddresses": [message.envelope.recipient]},
            Content={"Raw": {"Data": message.data}},
            **self.extra,
        )
        try:
            await asyncio.get_running_loop().run_in_executor(self.shared.pool, call)
        except (BotoCoreError, ClientError) as exc:
            raise _failure(exc) from None

    async def close(self) -> None:
        shared = self.shared
        shared.channels -= 1
        if shared.channels == 0 and self.transport._shared is shared:
            self.transport._shared = None
            shared.pool.shutdown(wait=False)
            shared.client.close()


def _no_blind_retry(caught_exception: Exception | None = None, **_: Any) -> None:
    from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

    if isinstance(caught_exception, ReadTimeoutError | ConnectionClosedError):
        raise caught_exception


def _failure(exc: Exception) -> DeliveryFailure:
    """What a botocore error means for the message (see the module's docstring)."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        NoCredentialsError,
        NoRegionError,
        ReadTimeoutError,
    )

    if isinstance(exc, ReadTimeoutError | ConnectionClosedError):
        return UncertainDelivery(f"SES did not answer: {exc}")
    if isinstance(exc, NoCredentialsError):
        return PermanentFailure(
            "SES: no AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the "
            "environment, or give the machine a role)",
            stage="auth",
        )
    if isinstance(exc, NoRegionError):
        return PermanentFailure(
            "SES: no region ([transport] region, or AWS_REGION)", stage="connect"
        )
    if not isinstance(exc, ClientError):
        failure = TemporaryFailure(f"SES: {exc}", stage="connect")
        failure.connection_lost = True
        return failure
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    text = f"SES {code}: {error.get('Message', '')}".strip()
    if code in THROTTLING or status == 429 or status >= 500:
        return TemporaryFailure(text, code=status or None)
    if code in STOP or status in (401, 403):
        return PermanentFailure(text, code=status or None, stage="auth")
    if code == "MessageRejected":
        # This message (a sandbox account's unverified recipient, a virus): not the address.
        return PermanentFailure(text, code=status or None, stage="recipient")
    return PermanentFailure(text, code=status or None, stage="data")
