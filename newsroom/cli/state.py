"""The state itself: ``newsroom state migrate`` and ``newsroom state copy``."""

from __future__ import annotations

from pathlib import Path

import click

from newsroom.cli.common import Options, handle_errors


@click.group()
def state() -> None:
    """The state: where it is kept ([state] url, else the SQLite file), its schema."""


@state.command("migrate")
@click.pass_obj
@handle_errors
def state_migrate(opts: Options) -> None:
    """Create or update the tables of the state's database ([state] url).

    Run once, from one machine, after installing a newsroom that needs a newer schema; a
    send or a service never changes the schema of a database by itself. (An SQLite file
    is brought up to date whenever it is opened.)"""
    from newsroom.store.state import SCHEMA_VERSION, State

    config = opts.open().config
    with State(config.state_location, config.state_password, migrate=True) as opened:
        click.echo(f"{opened.label}: schema {opened.version} (this newsroom: {SCHEMA_VERSION})")


@state.command("copy")
@click.option(
    "--to",
    "to",
    required=True,
    metavar="URL_OR_FILE",
    help="A postgresql:// URL (password: NEWSROOM_STATE_PASSWORD) or an SQLite file.",
)
@click.pass_obj
@handle_errors
def state_copy(opts: Options, to: str) -> None:
    """Copy the state (every subscriber, delivery, edition, approval and model answer) into
    an empty database or file, and verify the copy by counts and checksums. Safe to run
    again: a target that already holds the same rows is left as it is."""
    from newsroom.store.copying import copy_state
    from newsroom.store.engine import is_url
    from newsroom.store.state import State

    config = opts.open().config
    location: Path | str = to if is_url(to) else Path(to).resolve()
    with (
        State(config.state_location, config.state_password) as source,
        State(location, migrate=True) as target,
    ):
        report = copy_state(source, target)
    total = sum(report.rows.values())
    for table, rows in report.rows.items():
        click.echo(f"  {table:<20} {rows:>9} rows  sha256 {report.checksums[table][:16]}")
    if report.already:
        click.echo(f"{target.label} already held the same {total} rows; nothing was written.")
    else:
        click.echo(f"Copied {total} rows from {source.label} to {target.label}, verified.")


COMMANDS = [state]
