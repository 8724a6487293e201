"""The day's work for cron or a timer: ``run`` (build, render, publish, send)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
from typing import Any

import click

from newsroom.cli.common import Options, console, handle_errors, mirror_url, parse_now
from newsroom.cli.mailbox import describe, read_configured_mailbox
from newsroom.cli.review import hold_unless_reviewed
from newsroom.cli.send_report import SendProgress, print_send_report
from newsroom.core import exitcodes
from newsroom.core.errors import NewsroomError


@click.command()
@click.option("--now", help="Run as of this time (ISO 8601); default: now.")
@click.option(
    "--mirror",
    metavar="URL|FOLDER",
    help="Fetch every URL from a mirror or a folder of saved responses (see build --mirror).",
)
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

    from newsroom.curate.pipeline import build as run_build
    from newsroom.deliver import delivery
    from newsroom.deliver.approvals import NotApproved, approval, require_approval
    from newsroom.render.rendering import render
    from newsroom.render.themes import check_theme
    from newsroom.store.locks import Lock
    from newsroom.store.state import State

    newsletter = opts.open()
    config = newsletter.config
    when = parse_now(now) or dt.datetime.now(dt.UTC)
    eid = when.astimezone(config.timezone).date().isoformat()  # as `newsroom build` names it
    result: dict[str, Any] = {"edition": eid}
    with State.of(config) as state:
        lock = Lock(state, delivery.LOCK_NAME, f"newsroom run {eid}", lease=config.state.lease)
        with lock:
            lock.renew_in_background()
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
                check_theme(config)
                with mirror_url(mirror) as url:
                    built = asyncio.run(
                        run_build(config, newsletter.plugins, now=when, edition_id=eid, mirror=url)
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
            if not started:
                hold_unless_reviewed(config, eid)
            published = _publish_site(config, eid)
            if published:
                result["published"] = published
            if config.mailbox is not None:
                # Bounces and mailed unsubscribes first: today's send leaves them out.
                try:
                    mail = read_configured_mailbox(config)
                except NewsroomError as exc:
                    click.echo(f"Warning: {exc}", err=True)
                else:
                    result["mailbox"] = dataclasses.asdict(mail)
                    if not as_json:
                        click.echo(describe(mail))
            if no_send:
                report = None
            else:
                settings = delivery.settings_from(config)
                with SendProgress(enabled=not as_json and console().is_terminal) as bar:
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
            print_send_report(report, False)
    sys.exit(report.exit_code if report is not None else exitcodes.OK)


def _publish_site(config: Any, edition_id: str) -> list[str]:
    """Publish the web edition where ``[publish]`` says (a folder, a git branch, both), as
    ``newsroom publish`` does; returns what was done, one line each."""
    from newsroom.render.publishing import publish_to_branch, publish_to_folder, repository_of

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


#: The commands this module adds to ``newsroom``.
COMMANDS = [run]
