"""Commands for the list and its delivery: ``subscribers``, ``send``, ``deliveries``,
``run``, ``keys`` and ``serve``."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from newsroom import exitcodes
from newsroom.cli import Options, _console, _edition_path, _parse_now, cli, handle_errors

if TYPE_CHECKING:
    from newsroom.app import Newsletter
    from newsroom.sending import Counts, SendReport


def _edition_id(newsletter: Newsletter, edition_id: str | None) -> str:
    return _edition_path(newsletter, edition_id).parent.name


# -- subscribers ------------------------------------------------------------------------------


@cli.group()
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
    from newsroom.state import State
    from newsroom.subscribers import Subscribers

    newsletter = opts.open()
    with State(newsletter.config.state_path) as state:
        sub, outcome = Subscribers(state).add(email, name, status=status)
    if outcome == "suppressed":
        shown = f" (status {sub.status})" if sub else " (erased at their request)"
        click.echo(f"{email}: not added: the address is suppressed{shown}", err=True)
        sys.exit(exitcodes.FAILURE)
    click.echo(f"{outcome.capitalize()} {sub.email if sub else email}.")


@subscribers.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True))
@click.option(
    "--status", type=click.Choice(["active", "pending"]), default="active", show_default=True
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable report.")
@click.pass_obj
@handle_errors
def subscribers_import(opts: Options, file: Path, status: str, as_json: bool) -> None:
    """Import a CSV file with a header row: `email` (required), `name`, and any other
    columns, kept as attributes for templates. Invalid rows are reported and skipped."""
    from newsroom.state import State
    from newsroom.subscribers import Subscribers

    newsletter = opts.open()
    with State(newsletter.config.state_path) as state:
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
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for line, problem in report.invalid:
            click.echo(f"{label}:{line}: skipped: {problem}", err=True)
        click.echo(
            f"Imported {label}: {report.added} added, {report.updated} updated, "
            f"{report.unchanged} unchanged, {len(report.suppressed)} suppressed "
            f"(unsubscribed, bounced or complained; left as they are), "
            f"{len(report.invalid)} invalid."
        )
    if report.invalid:
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
    from newsroom.state import State
    from newsroom.subscribers import Subscribers

    newsletter = opts.open()
    with State(newsletter.config.state_path) as state:
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
    from newsroom.state import State
    from newsroom.subscribers import Subscribers

    newsletter = opts.open()
    with State(newsletter.config.state_path) as state:
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
    from newsroom.state import State
    from newsroom.subscribers import Subscribers

    newsletter = opts.open()
    missing = 0
    with State(newsletter.config.state_path) as state:
        subs = Subscribers(state)
        for email in emails:
            if subs.remove(email):
                click.echo(f"Removed {email}.")
            else:
                click.echo(f"{email}: no such subscriber", err=True)
                missing += 1
    if missing:
        sys.exit(exitcodes.FAILURE)


# -- keys -------------------------------------------------------------------------------------


@cli.group()
def keys() -> None:
    """The keys that sign unsubscribe, preferences and confirmation links."""


@keys.command("rotate")
@click.pass_obj
@handle_errors
def keys_rotate(opts: Options) -> None:
    """Add a new signing key at the top of the key file. New links use it; links signed
    with the older keys in the file keep working."""
    import os

    from newsroom.tokens import ENV_KEY, rotate

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


# -- send ---------------------------------------------------------------------------------------


class _Progress:
    """A progress bar with rate and ETA on stderr (nothing when it is not a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("[bold]sending"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]:>7.0f}/s"),
                TextColumn("{task.fields[detail]}"),
                TimeRemainingColumn(),
                console=_console(),
                transient=False,
            )
            self.bar.start()
        return self

    def update(self, counts: Counts, total: int) -> None:
        if not self.bar:
            return
        if self.task is None:
            self.task = self.bar.add_task("send", total=total, rate=0.0, detail="")
        task = self.bar.tasks[0]
        elapsed = task.elapsed or 0.0
        detail = ", ".join(
            f"{n} {k}"
            for k, n in (
                ("retried", counts.retried),
                ("bounced", counts.bounced),
                ("failed", counts.failed),
            )
            if n
        )
        self.bar.update(
            self.task,
            completed=counts.done,
            rate=counts.sent / elapsed if elapsed else 0.0,
            detail=detail,
        )

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.stop()


def _print_report(report: SendReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return
    c = report.counts
    if not report.queued and report.complete:
        click.echo(
            f"Edition {report.edition} was already sent to {report.already_sent} subscriber(s); "
            "nothing to send."
        )
        _print_uncertain(report)
        return
    rate = f", {c.sent / report.elapsed:.0f}/s" if report.elapsed and c.sent else ""
    click.echo(
        f"Edition {report.edition}: {c.sent} sent, {c.retried} retried, {c.bounced} bounced, "
        f"{c.failed} failed, {c.skipped} skipped"
        + (f", {c.uncertain} uncertain" if c.uncertain else "")
        + f" in {report.elapsed:.1f} s{rate}"
        + (f" ({report.workers} processes)" if report.workers > 1 else "")
    )
    if report.resumed:
        click.echo(
            f"  resumed: {report.resumed} message(s) were in flight when an earlier run stopped "
            "and were sent again"
        )
    if report.already_sent:
        click.echo(f"  {report.already_sent} subscriber(s) had received it in an earlier run")
    _print_uncertain(report)
    if report.stopped:
        click.echo(f"Stopped: {report.stopped}", err=True)
    if report.remaining:
        click.echo(
            f"  {report.remaining} message(s) left to send: run `newsroom send {report.edition}` "
            "again to resume",
            err=True,
        )
    elif report.complete:
        click.echo("  complete: every subscriber has this edition")


def _print_uncertain(report: SendReport) -> None:
    uncertain = report.counts.uncertain + report.uncertain
    if uncertain:
        click.echo(
            f"  uncertain: the server never answered the end of {uncertain} message(s); they "
            "may or may not have arrived, and are not sent again on their own. See `newsroom "
            f"deliveries {report.edition} --status uncertain`; `newsroom send {report.edition} "
            "--resend-uncertain` sends them again (a reader who got one gets two).",
            err=True,
        )


@cli.command()
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
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for --dry-run (default: the edition's dry-run/ folder).",
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
    output: Path | None,
    as_json: bool,
) -> None:
    """Send EDITION (default: the latest) to every active subscriber who has not had it.

    Safe to run again at any time: it resumes where an earlier run stopped, and a
    subscriber who received the edition never gets it twice.
    """
    from newsroom import delivery
    from newsroom.pipeline import edition_dir

    newsletter = opts.open()
    config = newsletter.config
    eid = _edition_id(newsletter, edition_id)
    if to:
        message_id = delivery.send_test(config, eid, to)
        click.echo(f"Sent a test copy of {eid} to {to} ({message_id}); the log is unchanged.")
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
    settings = delivery.settings_from(
        config, limit=limit, concurrency=concurrency, rate=rate, workers=workers
    )
    with _Progress(enabled=not as_json and _console().is_terminal) as bar:
        report = delivery.send_edition(
            config,
            eid,
            settings,
            accept_new_version=accept_new_version,
            resend_uncertain=resend_uncertain,
            progress=bar.update,
        )
    _print_report(report, as_json)
    sys.exit(report.exit_code)


@cli.command()
@click.argument("edition_id", required=False)
@click.option("--status", help="Only deliveries with this status (with EDITION).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@handle_errors
def deliveries(opts: Options, edition_id: str | None, status: str | None, as_json: bool) -> None:
    """Show the delivery log: a summary per edition, or every message of EDITION."""
    from newsroom.state import State

    newsletter = opts.open()
    with State(newsletter.config.state_path) as state:
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


# -- run ------------------------------------------------------------------------------------------


@cli.command()
@click.option("--now", help="Run as of this time (ISO 8601); default: now.")
@click.option("--mirror", metavar="URL", help="Fetch every URL from a mirror (see build --mirror).")
@click.option("--no-send", is_flag=True, help="Build, render and publish only.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report.")
@click.pass_obj
@handle_errors
def run(opts: Options, now: str | None, mirror: str | None, no_send: bool, as_json: bool) -> None:
    """A day's work for cron or a timer: build, render, publish the web edition, send.

    Holds the delivery lock throughout. When today's edition has started going out
    already, it is not rebuilt (the rest would get other content): the send resumes. With
    ``[email] require_approval``, a new edition is built and rendered, then nothing is
    published or sent until `newsroom approve`; the next run sends the approved edition
    without rebuilding it.
    """
    import asyncio

    from newsroom import delivery
    from newsroom.approvals import NotApproved, approval, require_approval
    from newsroom.locks import Lock
    from newsroom.pipeline import build as run_build
    from newsroom.rendering import render
    from newsroom.state import State

    newsletter = opts.open()
    config = newsletter.config
    when = _parse_now(now) or dt.datetime.now(dt.UTC)
    eid = when.astimezone(config.timezone).date().isoformat()  # as `newsroom build` names it
    result: dict[str, Any] = {"edition": eid}
    with State(config.state_path) as state:
        lock = Lock(state, delivery.LOCK_NAME, f"newsroom run {eid}")
        with lock:
            started = state.db.execute(
                "SELECT 1 FROM sends WHERE edition_id = ?", (eid,)
            ).fetchone()
            unfinished = [
                r[0]
                for r in state.db.execute(
                    "SELECT edition_id FROM sends WHERE completed_at IS NULL AND edition_id != ?",
                    (eid,),
                )
            ]
            for other in unfinished:
                click.echo(
                    f"Note: edition {other} did not finish sending; `newsroom send {other}` "
                    "resumes it.",
                    err=True,
                )
            approved = approval(state, eid) if config.email.require_approval else None
            if started:
                click.echo(
                    f"Edition {eid} has started going out already: not rebuilding it.", err=True
                )
            elif approved is not None:
                # Rebuilding would change what the editor approved.
                click.echo(f"Edition {eid} is approved: not rebuilding it.", err=True)
            else:
                built = asyncio.run(
                    run_build(config, newsletter.plugins, now=when, edition_id=eid, mirror=mirror)
                )
                eid = built.edition.id
                result["warnings"] = [w.model_dump() for w in built.warnings]
                result["outputs"] = [
                    str(p) for p in render(config, newsletter.plugins, built.edition)
                ]
                for w in built.warnings:
                    click.echo(f"Warning: {w.source}: {w.message}", err=True)
            if config.email.require_approval and not started:
                # Nothing goes out, not even the web edition, before the editor approves.
                try:
                    require_approval(config, eid)
                except NotApproved as exc:
                    result["approval"] = exc.message
                    if as_json:
                        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
                    click.echo(f"Built {eid}; waiting for approval: {exc.message}", err=True)
                    sys.exit(exc.exit_code)
            published = _publish_site(config, eid)
            if published:
                result["published"] = published
            if no_send:
                report = None
            else:
                settings = delivery.settings_from(config)
                with _Progress(enabled=not as_json and _console().is_terminal) as bar:
                    report = delivery.send_edition(
                        config, eid, settings, progress=bar.update, lock=lock
                    )
    if report is not None:
        result["send"] = report.as_dict()
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for line in published:
            click.echo(line)
        if report is not None:
            _print_report(report, False)
    sys.exit(report.exit_code if report is not None else exitcodes.OK)


def _publish_site(config: Any, edition_id: str) -> list[str]:
    """Publish the web edition where ``[publish]`` says (a folder, a git branch, both), as
    ``newsroom publish`` does; returns what was done, one line each."""
    from newsroom.publishing import publish_to_branch, publish_to_folder, repository_of

    site = config.output_dir / "site"
    done: list[str] = []
    if not site.is_dir():
        return done
    if config.publish_dir is not None:
        folder = publish_to_folder(site, config.publish_dir, output=config.output_dir)
        done.append(
            f"Published the web edition to {folder.target} ({len(folder.copied)} copied, "
            f"{len(folder.removed)} removed)"
        )
    if config.publish.git_branch:
        committed = publish_to_branch(
            site,
            repository_of(config.root),
            config.publish.git_branch,
            message=f"Publish {edition_id}",
            remote=config.publish.git_remote,
        )
        pushed = f", pushed to {committed.pushed_to}" if committed.pushed_to else ""
        done.append(
            f"Published the web edition to branch {committed.branch} of "
            f"{committed.repository}{pushed}"
        )
    return done


# -- serve ----------------------------------------------------------------------------------------


@cli.command()
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
