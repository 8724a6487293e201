"""What sending needs that only a connection can tell: the mail server and the links.

``newsroom doctor`` runs these before send time: the transport connects, the SMTP server
offers TLS and accepts the login, and the subscription pages the unsubscribe links lead to
answer over https. Each returns findings (:mod:`newsroom.core.findings`); none sends mail.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from newsroom.config import Config
from newsroom.config.mail import subscriptions_problem
from newsroom.core.errors import NewsroomError
from newsroom.core.findings import Finding, Level
from newsroom.core.transport import TransportContext
from newsroom.core.urls import is_loopback


async def _offers_tls(host: str, port: int, timeout: float) -> bool | None:
    """Whether the server at ``host:port`` offers STARTTLS (None: it could not be asked)."""
    import aiosmtplib

    client = aiosmtplib.SMTP(
        hostname=host, port=port, timeout=timeout, use_tls=False, start_tls=False
    )
    try:
        await client.connect()
        await client.ehlo()
        return client.supports_extension("starttls")
    except (aiosmtplib.SMTPException, OSError):
        return None
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()


async def transport_findings(config: Config) -> list[Finding]:
    """Open the configured transport as ``newsroom send`` does (connect, TLS, login) and
    close it again; for SMTP in clear, whether the server offers TLS at all."""
    if config.transport is None:
        return []  # readiness reports the missing transport
    transport = config.transport.create()
    options = config.transport.options
    host = str(getattr(options, "host", "") or "")
    security = getattr(options, "security", None)
    port = int(getattr(options, "port", 0) or {"tls": 465, "starttls": 587}.get(str(security), 25))
    where = f"{host}:{port}" if host else f"plugin {config.transport.plugin!r}"
    found: list[Finding] = []
    try:
        channel = await transport.open(TransportContext(root=config.root))  # type: ignore[attr-defined]
    except NewsroomError as exc:
        return [Finding("mail server", Level.PROBLEM, exc.message)]
    except Exception as exc:  # noqa: BLE001 - a transport's own errors, reported as found
        return [Finding("mail server", Level.PROBLEM, f"{where}: {type(exc).__name__}: {exc}")]
    await channel.close()
    user = str(getattr(options, "username", "") or "")
    login = f", accepted the login of {user}" if user else ""
    found.append(Finding("mail server", Level.OK, f"{where} answered{login}"))
    if config.transport.plugin == "smtp" and host and not is_loopback(host):
        if security == "tls":
            found.append(Finding("mail TLS", Level.OK, "implicit TLS (port 465 style)"))
        elif security == "starttls":
            found.append(Finding("mail TLS", Level.OK, "STARTTLS, required by the config"))
        else:
            offered = await _offers_tls(host, port, float(getattr(options, "timeout", 30)))
            if offered is False:
                found.append(
                    Finding(
                        "mail TLS",
                        Level.PROBLEM if user else Level.WARNING,
                        f"{where} does not offer STARTTLS: messages"
                        + (" and the password" if user else "")
                        + " travel in clear",
                        'use the provider\'s submission port with security = "starttls" '
                        '(587) or "tls" (465)',
                    )
                )
            elif offered:
                found.append(Finding("mail TLS", Level.OK, f"{where} offers STARTTLS"))
    return found


async def subscriptions_findings(config: Config, timeout: float = 10.0) -> list[Finding]:
    """The subscription pages the unsubscribe links lead to: https, and answering."""
    import httpx

    url = config.subscriptions_url
    check = "subscription pages"
    if subscriptions_problem(url):
        return []  # readiness reports it, with what to set
    host = urlsplit(url).hostname
    if is_loopback(host):
        return [Finding(check, Level.NOTE, f"{url} is on this machine: not asked")]
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        return [
            Finding(
                check,
                Level.PROBLEM,
                f"{url} does not answer ({type(exc).__name__}: {exc}): readers' unsubscribe "
                "links would fail",
                "start newsroom serve behind your web server, or fix [subscriptions] url",
            )
        ]
    final = str(response.url)
    if not final.startswith("https://"):
        return [Finding(check, Level.PROBLEM, f"{url} ends at {final}, not https")]
    if response.status_code >= 500:
        return [
            Finding(
                check,
                Level.PROBLEM,
                f"{url} answers {response.status_code}: readers' unsubscribe links would fail",
            )
        ]
    return [Finding(check, Level.OK, f"{url} answers over https ({response.status_code})")]
