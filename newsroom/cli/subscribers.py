"""The list and the keys that sign its links: ``subscribers`` and ``keys``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from newsroom.cli.common import CommandGroup, Options, handle_errors
from newsroom.core import exitcodes


@click.group(cls=CommandGroup)
def subscribers() -> None:
    """Manage the subscriber list (kept in the state file)."""


@subscribers.command("add")
@click.argument("email")
@click.option("--name", help="The subscriber's name (used in greetings).")
@click.option(
    "--status",
    type=click.Choice(["active", "pending"]),
    default="active",
    show_default=True,
    help="pending: waiting for the subscriber to confirm.",
)
@click.pass_obj
@handle_errors
def subscribers_add(opts: Options, email: str, name: str | None, status: str) -> None:
    """Add EMAIL, or update its name. An unsubscribed, bounced or complained address
    stays so."""
    from newsroom.deliver.subscribers import Subscribers
    from newsroom.store.state import State

    newsletter = opts.open()
    with State.of(newsletter.config) as state:
        sub, outcome = Subscribers(state).add(email, name, status=status)
    if outcome == "suppressed":
        shown = f" (status {sub.status})" if sub else " (erased at their request)"
        click.echo(f"{email}: not added: the address is suppressed{shown}", err=True)
        sys.exit(exitcodes.USAGE)
    click.echo(f"{outcome.capitalize()} {sub.email if sub else email}.")


@subscribers.command("import")
@click.argument(
    "file", type=click.Path(path_type=Path, exists=True, dir_okay=False, allow_dash=True)
)
@click.option(
    "--status", type=click.Choice(["active", "pending"]), default="active", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
@click.pass_obj
@handle_errors
def subscribers_import(opts: Options, file: Path, status: str, as_json: bool) -> None:
    """Import a CSV file with a header row: `email` (required), `name`, and any other
    columns, kept as attributes for templates. Invalid and repeated rows and columns that
    cannot be kept are reported (exit 4); the rest is imported."""
    from newsroom.deliver.subscribers import Subscribers
    from newsroom.store.state import State

    newsletter = opts.open()
    with State.of(newsletter.config) as state:
        source: Any = sys.stdin if str(file) == "-" else file
        report = Subscribers(state).import_csv(source, status=status)
    label = "<stdin>" if str(file) == "-" else str(file)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "added": report.added,
                    "updated": report.updated,
                    "unchanged": report.unchanged,
                    "suppressed": report.suppressed,
                    "invalid": [{"line": n, "problem": p} for n, p in report.invalid],
                    "duplicates": [
                        {"line": n, "first_line": first, "email": address}
                        for n, first, address in report.duplicates
                    ],
                    "ignored_columns": report.ignored_columns,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for column in report.ignored_columns:
            click.echo(f"{label}: column not imported: {column}", err=True)
        for line, problem in report.invalid:
            click.echo(f"{label}:{line}: skipped: {problem}", err=True)
        for line, first, address in report.duplicates:
            click.echo(
                f"{label}:{line}: skipped: {address} is on line {first} already (the first "
                "row counts; merge the two rows into one to change it)",
                err=True,
            )
        click.echo(
            f"Imported {label}: {report.added} added, {report.updated} updated, "
            f"{report.unchanged} unchanged, {len(report.suppressed)} suppressed "
            f"(unsubscribed, bounced or complained; left as they are), "
            f"{len(report.invalid)} invalid, {len(report.duplicates)} duplicate."
        )
    if not report.complete:
        sys.exit(exitcodes.WARNINGS)


@subscribers.command("export")
@click.option("--status", help="Only subscribers with this status.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="File (default: stdout).",
)
@click.pass_obj
@handle_errors
def subscribers_export(opts: Options, status: str | None, output: Path | None) -> None:
    """Write the list as CSV (email, name, status, attributes)."""
    from newsroom.deliver.subscribers import Subscribers
    from newsroom.store.state import State

    newsletter = opts.open()
    with State.of(newsletter.config) as state:
        if output:
            with output.open("w", encoding="utf-8", newline="") as out:
                count = Subscribers(state).export_csv(out, status=status)
            click.echo(f"Wrote {count} subscriber(s) to {output}", err=True)
        else:
            Subscribers(state).export_csv(sys.stdout, status=status)


@subscribers.command("list")
@click.option("--status", help="active, pending, unsubscribed, bounced or complained.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@handle_errors
def subscribers_list(opts: Options, status: str | None, as_json: bool) -> None:
    """List subscribers, with a count per status."""
    from newsroom.deliver.subscribers import Subscribers
    from newsroom.store.state import State

    newsletter = opts.open()
    with State.of(newsletter.config) as state:
        subs = Subscribers(state)
        rows = list(subs.iter(status))
        counts = subs.counts()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "email": s.email,
                        "name": s.name,
                        "status": s.status,
                        "attributes": s.attributes,
                        "created_at": s.created_at,
                        "reason": s.reason,
                    }
                    for s in rows
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for s in rows:
        click.echo(f"{s.email}\t{s.status}\t{s.name}")
    click.echo(", ".join(f"{n} {k}" for k, n in counts.items()), err=True)


@subscribers.command("remove")
@click.argument("emails", nargs=-1, required=True)
@click.pass_obj
@handle_errors
def subscribers_remove(opts: Options, emails: tuple[str, ...]) -> None:
    """Delete subscribers and their delivery records. A suppressed address is remembered
    (as a hash) so that no later import adds it again."""
    from newsroom.deliver.subscribers import Subscribers
    from newsroom.store.state import State

    newsletter = opts.open()
    missing = 0
    with State.of(newsletter.config) as state:
        subs = Subscribers(state)
        for email in emails:
            if subs.remove(email):
                click.echo(f"Removed {email}.")
            else:
                click.echo(f"{email}: no such subscriber", err=True)
                missing += 1
    if missing:
        sys.exit(exitcodes.USAGE)


# -- keys -------------------------------------------------------------------------------------


@click.group(cls=CommandGroup)
def keys() -> None:
    """The keys that sign unsubscribe, preferences and confirmation links."""


@keys.command("rotate")
@click.pass_obj
@handle_errors
def keys_rotate(opts: Options) -> None:
    """Add a new signing key at the top of the key file. New links use it; links signed
    with the older keys in the file keep working."""
    import os

    from newsroom.deliver.tokens import ENV_KEY, rotate

    newsletter = opts.open()
    path = newsletter.config.keys_file
    rotate(path)
    count = sum(1 for line in path.read_text("utf-8").splitlines() if line.strip())
    click.echo(f"New signing key written to {path} ({count} key(s); keep the file private).")
    click.echo(
        "A running `newsroom serve` takes the new key with its next request (no restart; "
        "SIGHUP reloads the keys at once)."
    )
    if os.environ.get(ENV_KEY):
        # The environment's keys come first, so they would go on signing new links.
        click.echo(
            f"Note: {ENV_KEY} is set and its key signs new links; to use the new key, move "
            f"the key in {ENV_KEY} into {path} below it and unset the variable.",
            err=True,
        )


#: The commands this module adds to ``newsroom``.
COMMANDS = [subscribers, keys]
