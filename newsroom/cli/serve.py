"""The subscription service: ``serve``."""

from __future__ import annotations

import click

from newsroom.cli.common import Options, handle_errors


@click.command()
@click.option("--host", help="Address to listen on (default: [subscriptions] host).")
@click.option("--port", type=int, help="Port (default: [subscriptions] port).")
@click.pass_obj
@handle_errors
def serve(opts: Options, host: str | None, port: int | None) -> None:
    """Run the subscription service: signup with double opt-in, one-click unsubscribe,
    preferences, data export and erasure, and the bounce/complaint webhook."""
    from newsroom.service import run_service

    newsletter = opts.open()
    run_service(newsletter, host=host, port=port)


#: The commands this module adds to ``newsroom``.
COMMANDS = [serve]
