"""What sending a newsletter needs, read from its config and files without a connection.

:func:`sending_findings` is what ``newsroom check`` lists under "sending" and the first part
of ``newsroom doctor``: each thing ``newsroom send`` would refuse is a ``PROBLEM`` (all of
them at once, not the first), and what would work but should change before readers get
mail (an address at a reserved domain, no postal address) a ``WARNING`` or ``NOTE``.
"""

from __future__ import annotations

import os
from email.utils import parseaddr
from urllib.parse import urlsplit

from newsroom.config import Config
from newsroom.config.mail import subscriptions_problem
from newsroom.core.errors import ConfigError
from newsroom.core.findings import Finding, Level
from newsroom.core.urls import is_loopback

#: Domains that exist for examples and tests (RFC 2606, RFC 6761): mail from them never
#: reaches an inbox, so an address there is a placeholder.
RESERVED_DOMAINS = ("example.org", "example.com", "example.net")
RESERVED_SUFFIXES = (".example", ".test", ".invalid", ".localhost")


def is_placeholder_domain(domain: str) -> bool:
    domain = domain.lower().rstrip(".")
    return (
        domain in RESERVED_DOMAINS
        or any(domain.endswith("." + d) for d in RESERVED_DOMAINS)
        or domain.endswith(RESERVED_SUFFIXES)
        or domain in ("localhost", "example", "test", "invalid")
    )


def _sender(config: Config) -> Finding:
    check = "sender"
    if not config.email.from_:
        return Finding(
            check,
            Level.PROBLEM,
            "[email] from is not set",
            'e.g. from = "AI 브리핑 <briefing@your-domain.org>"',
        )
    address = parseaddr(config.email.from_)[1]
    domain = address.rpartition("@")[2]
    if is_placeholder_domain(domain):
        return Finding(
            check,
            Level.WARNING,
            f"[email] from is {address}, at a domain kept for examples: mail from it does "
            "not reach readers' inboxes",
            "use an address of a domain you send from (with its SPF and DKIM records)",
        )
    return Finding(check, Level.OK, f"sends as {config.email.from_}")


def _links(config: Config) -> Finding:
    check = "links"
    url = config.subscriptions_url
    problem = subscriptions_problem(url)
    if problem:
        return Finding(check, Level.PROBLEM, problem)
    if is_loopback(urlsplit(url).hostname):
        return Finding(
            check,
            Level.NOTE,
            f"unsubscribe and preferences links lead to this machine ({url}): a test setup",
        )
    return Finding(check, Level.OK, f"unsubscribe and preferences links lead to {url}")


def _keys(config: Config) -> Finding:
    from newsroom.deliver.tokens import ENV_KEY, load_keys

    check = "signing keys"
    try:
        load_keys(config.keys_file)
    except ConfigError as exc:
        return Finding(check, Level.PROBLEM, exc.message)
    where = f"${ENV_KEY}" if os.environ.get(ENV_KEY) else str(config.keys_file)
    return Finding(check, Level.OK, f"the links are signed with the keys of {where}")


def _transport(config: Config) -> Finding:
    check = "transport"
    if config.transport is None:
        return Finding(
            check,
            Level.PROBLEM,
            "no [transport] configured and no smtp transport installed",
            'add [transport] plugin = "smtp" with your provider\'s host',
        )
    options = config.transport.options
    host = str(getattr(options, "host", "") or "")
    port = getattr(options, "port", "")
    where = f"{host}:{port}" if host else f"plugin {config.transport.plugin!r}"
    if is_loopback(host):
        return Finding(
            check,
            Level.NOTE,
            f"sends to this machine ({where}), e.g. to `newsroom dev-smtp`: fine for trying out",
            "point [transport] at your mail provider before sending to readers",
        )
    return Finding(check, Level.OK, f"sends through {config.transport.plugin} ({where})")


def _postal_address(config: Config) -> Finding:
    check = "postal address"
    if not config.email.postal_address:
        return Finding(
            check,
            Level.WARNING,
            "[email] postal_address is empty: the footers print none",
            "a newsletter's messages should say who sends them and where (CAN-SPAM in the US "
            "asks for a postal address)",
        )
    return Finding(check, Level.OK, "printed in every footer")


def _dkim(config: Config) -> Finding:
    from newsroom.deliver.messages import DkimSigner

    check = "DKIM"
    email = config.email
    if not email.dkim_key_file:
        return Finding(
            check,
            Level.NOTE,
            "newsroom does not sign the messages",
            "fine when the mail provider signs them; else set [email] dkim_key_file",
        )
    domain = email.dkim_domain or parseaddr(email.from_)[1].rpartition("@")[2]
    try:
        DkimSigner(config.root / email.dkim_key_file, email.dkim_selector, domain)
    except ConfigError as exc:
        return Finding(check, Level.PROBLEM, exc.message)
    return Finding(check, Level.OK, f"signed with selector {email.dkim_selector} for {domain}")


#: The checks, in the order they are reported.
CHECKS = (_sender, _links, _keys, _transport, _postal_address, _dkim)


def sends(config: Config, raw: dict[str, object] | None = None) -> bool:
    """Whether the newsletter is set up to send at all: ``[email] from`` or ``[transport]``
    in its file (``raw``)."""
    return bool(config.email.from_) or bool(raw and "transport" in raw)


def sending_findings(config: Config) -> list[Finding]:
    """Everything sending needs, found from the config and the files alone: each thing
    ``newsroom send`` would refuse is a ``PROBLEM``."""
    return [check(config) for check in CHECKS]
