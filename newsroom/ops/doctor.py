"""``newsroom doctor``: before send time, everything a day's run needs, tried for real.

A list of checks, each a function of the opened newsletter returning findings
(:mod:`newsroom.core.findings`) with a level. The checks live with the stage they are
about (sending's readiness and connections in ``deliver``, the sources in ``curate``); this
module only gathers them, so a check from anywhere (a mail service's API, say) joins the
list with :func:`register`.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from newsroom.config import Config
from newsroom.core.findings import Finding, Level
from newsroom.core.plugins import Plugins


@dataclass(frozen=True)
class Round:
    """What every check is given: the opened newsletter, and where to fetch from."""

    config: Config
    plugins: Plugins
    mirror: str | None = None
    """``--mirror``: fetch every source's URLs from saved responses (newsroom build's)."""


CheckFunction = Callable[[Round], "list[Finding] | Awaitable[list[Finding]]"]


@dataclass(frozen=True)
class Check:
    """One part of the doctor's round: ``name`` (for ``--skip``) and its function."""

    name: str
    run: CheckFunction
    description: str = ""


def _sending(r: Round) -> list[Finding]:
    from newsroom.deliver.readiness import sending_findings

    return sending_findings(r.config)


async def _sources(r: Round) -> list[Finding]:
    from newsroom.curate.source_checks import source_findings

    return await source_findings(r.config, r.plugins, mirror=r.mirror)


async def _mail_server(r: Round) -> list[Finding]:
    from newsroom.deliver.connection_checks import transport_findings

    return await transport_findings(r.config)


async def _links(r: Round) -> list[Finding]:
    from newsroom.deliver.connection_checks import subscriptions_findings

    return await subscriptions_findings(r.config)


def _services(r: Round) -> list[Finding]:
    from newsroom.deliver.service_checks import service_findings

    return service_findings(r.config)


#: The round, in the order it is reported.
CHECKS: list[Check] = [
    Check("sending", _sending, "sender, links, signing keys, transport, DKIM (no network)"),
    Check(
        "services",
        _services,
        "an email service's credentials, its bounce and complaint reports, the reply "
        "mailbox, the DKIM key and its DNS record (no network)",
    ),
    Check("sources", _sources, "each source answers and parses to items"),
    Check("mail", _mail_server, "the mail server connects, offers TLS, accepts the login"),
    Check("links", _links, "the subscription pages answer over https"),
]


def register(check: Check) -> None:
    """Add ``check`` to the round (a stage's or a plugin's own checks)."""
    if any(c.name == check.name for c in CHECKS):
        raise ValueError(f"a doctor check called {check.name!r} exists already")
    CHECKS.append(check)


async def _run(check: Check, r: Round) -> list[Finding]:
    try:
        result = check.run(r)
        if inspect.isawaitable(result):
            result = await result
        return list(result)
    except Exception as exc:  # noqa: BLE001 - one broken check must not hide the others
        return [
            Finding(check.name, Level.PROBLEM, f"the check failed: {type(exc).__name__}: {exc}")
        ]


def diagnose(
    config: Config,
    plugins: Plugins,
    *,
    skip: frozenset[str] | set[str] = frozenset(),
    mirror: str | None = None,
) -> list[Finding]:
    """Run every check not in ``skip`` (the network ones at the same time); all findings,
    in the order of :data:`CHECKS`."""
    chosen = [c for c in CHECKS if c.name not in skip]
    r = Round(config, plugins, mirror)

    async def everything() -> list[list[Finding]]:
        return list(await asyncio.gather(*(_run(c, r) for c in chosen)))

    return [f for found in asyncio.run(everything()) for f in found]
