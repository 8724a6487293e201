"""Delivering an edition: ``send`` and the delivery log, ``deliveries``."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import click

from newsroom.cli.common import Options, console, edition_id_of, handle_errors
from newsroom.cli.review import hold_unless_reviewed
from newsroom.cli.send_report import SendProgress, print_send_report


@click.command()
@click.argument("edition_id", required=False)
@click.option("--dry-run", is_flag=True, help="Write every message to a folder; send nothing.")
@click.option(
    "--to", "to", metavar="ADDRESS", help="Send one test copy to ADDRESS, outside the log."
)
@click.option("--limit", type=click.IntRange(min=1), help="Send at most N messages in this run.")
@click.option("--concurrency", type=click.IntRange(1, 200), help="Connections at once.")
@click.option("--rate", type=click.FloatRange(min=0), help="Messages per second (0: no limit).")
@click.option("--workers", type=click.IntRange(0, 64), help="Sending processes (0: automatic).")
@click.option(
    "--accept-new-version",
    is_flag=True,
    help="Resume with a re-rendered edition although some received the earlier one.",
)
@click.option(
    "--resend-uncertain",
    is_flag=True,
    help="Also send the copies the server never confirmed (they may arrive twice).",
)
@click.option(
    "--join",
    is_flag=True,
    help="Share a send of this edition already running (another machine, same [state] url).",
)
@click.option(
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for --dry-run (default: the edition's dry-run/ folder).",
)
@click.option(
    "-y",
    "--yes",
    is_flag=True,
    help="Do not ask before sending to the list (asked only on a terminal).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report.")
@click.pass_obj
@handle_errors
def send(
    opts: Options,
    edition_id: str | None,
    dry_run: bool,
    to: str | None,
    limit: int | None,
    concurrency: int | None,
    rate: float | None,
    workers: int | None,
    accept_new_version: bool,
    resend_uncertain: bool,
    join: bool,
    output: Path | None,
    yes: bool,
    as_json: bool,
) -> None:
    """Send EDITION (default: the latest) to every active subscriber who has not had it.

    Safe to run again at any time: it resumes where an earlier run stopped, and a
    subscriber who received the edition never gets it twice. On a terminal it asks first
    (--yes does not); from a script or cron it never asks.
    """
    from newsroom.config.outputs import edition_dir
    from newsroom.deliver import delivery

    newsletter = opts.open()
    config = newsletter.config
    eid = edition_id_of(newsletter, edition_id)
    if to:
        copy = delivery.send_test(config, eid, to)
        click.echo(
            f"Sent a test copy of {eid} to {to} ({copy.message_id}, its subject marked "
            f"{delivery.TEST_SUBJECT_PREFIX.strip()}); the log is unchanged."
        )
        for note in copy.notes:
            click.echo(f"Note: {note}.", err=True)
        return
    if dry_run:
        folder = output or edition_dir(config, eid) / "dry-run"
        if output is None and folder.exists():
            shutil.rmtree(folder)  # our own folder, from an earlier dry run
        elif folder.exists() and any(p.suffix != ".eml" for p in folder.iterdir()):
            raise click.UsageError(
                f"--output {folder} holds other files; give an empty or new folder"
            )
        else:
            for old in folder.glob("*.eml") if folder.exists() else []:
                old.unlink()
        count = delivery.dry_run(config, eid, folder)
        click.echo(f"Dry run: wrote {count} message(s) to {folder}; nothing was sent.")
        return
    hold_unless_reviewed(config, eid)
    if not (yes or as_json) and sys.stdin.isatty() and sys.stdout.isatty():
        delivery.edition_message(config, eid)  # what would stop the send, before asking
        left = delivery.recipients_left(config, eid)
        if left and not click.confirm(
            f"Send {eid} to {left} subscriber(s) who have not had it?", default=False
        ):
            click.echo("Nothing was sent.")
            return
    settings = delivery.settings_from(
        config, limit=limit, concurrency=concurrency, rate=rate, workers=workers
    )
    with SendProgress(enabled=not as_json and console().is_terminal) as bar:
        report = delivery.send_edition(
            config,
            eid,
            settings,
            accept_new_version=accept_new_version,
            resend_uncertain=resend_uncertain,
            progress=bar.update,
            join=join,
        )
    print_send_report(report, as_json)
    sys.exit(report.exit_code)


@click.command()
@click.argument("edition_id", required=False)
@click.option("--status", help="Only deliveries with this status (with EDITION).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@handle_errors
def deliveries(opts: Options, edition_id: str | None, status: str | None, as_json: bool) -> None:
    """Show the delivery log: a summary per edition, or every message of EDITION."""
    from newsroom.store.state import State

    newsletter = opts.open()
    with State.of(newsletter.config) as state:
        if edition_id is None:
            rows = state.db.execute(
                "SELECT s.edition_id, s.created_at, s.completed_at, d.status, COUNT(d.status) "
                "FROM sends s LEFT JOIN deliveries d ON d.edition_id = s.edition_id "
                "GROUP BY s.edition_id, d.status ORDER BY s.created_at"
            ).fetchall()
            summary: dict[str, dict[str, Any]] = {}
            for eid, created, completed, st, n in rows:
                entry = summary.setdefault(
                    eid, {"edition": eid, "started": created, "completed": completed}
                )
                if st:
                    entry[st] = n
            if as_json:
                click.echo(json.dumps(list(summary.values()), indent=2))
                return
            if not summary:
                click.echo("No edition has been sent yet.")
                return
            for entry in summary.values():
                counts = ", ".join(
                    f"{entry[k]} {k}"
                    for k in (
                        "sent",
                        "queued",
                        "sending",
                        "failed",
                        "bounced",
                        "skipped",
                        "uncertain",
                    )
                    if entry.get(k)
                )
                state_text = "complete" if entry["completed"] else "incomplete"
                click.echo(f"{entry['edition']}\t{state_text}\t{counts}")
            return
        sql = (
            "SELECT s.email, d.status, d.attempts, d.updated_at, d.error FROM deliveries d "
            "JOIN subscribers s ON s.id = d.subscriber_id WHERE d.edition_id = ?"
        )
        args: list[Any] = [edition_id]
        if status:
            sql += " AND d.status = ?"
            args.append(status)
        records = state.db.execute(sql + " ORDER BY d.updated_at", args).fetchall()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "email": r[0],
                        "status": r[1],
                        "attempts": r[2],
                        "updated_at": r[3],
                        "error": r[4],
                    }
                    for r in records
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for r in records:
        click.echo("\t".join(str(x) for x in r).rstrip())


#: The commands this module adds to ``newsroom``.
COMMANDS = [send, deliveries]
