"""``newsroom mailbox``: bounces and unsubscribe requests that come back by mail."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import click

from newsroom.cli.common import Options, handle_errors


def describe(report: Any) -> str:
    """One line for a :class:`~newsroom.deliver.mailbox.MailboxReport`."""
    text = (
        f"Mailbox: {report.bounced} bounced, {report.soft_bounces} soft bounce(s), "
        f"{report.unsubscribed} unsubscribed, {report.unknown} not on the list; "
        f"{report.moved} moved, {report.left} left for a person"
    )
    if report.unverified:
        text += (
            f"; {report.unverified} bounce(s) quote no message sent to that address "
            "(left in the folder)"
        )
    return text


def read_configured_mailbox(config: Any) -> Any:
    """The mailbox step of ``newsroom mailbox`` and ``newsroom run``."""
    from newsroom.deliver.mailbox import read_mailbox

    return read_mailbox(config)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report.")
@click.pass_obj
@handle_errors
def mailbox(opts: Options, as_json: bool) -> None:
    """Read the [mailbox]: apply the bounces and the unsubscribe requests that came by mail,
    and move them to its done_folder. Replies from readers stay where they are."""
    config = opts.open().config
    if config.mailbox is None:
        raise click.UsageError(
            "no [mailbox] in the config: add host, user and password (docs/feedback.md)"
        )
    report = read_configured_mailbox(config)
    if as_json:
        click.echo(json.dumps(dataclasses.asdict(report), indent=2))
    else:
        click.echo(describe(report))


COMMANDS = [mailbox]
