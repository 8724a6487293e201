"""What ``newsroom send`` (and ``run``) show: a progress bar while sending, a report after.

rich is imported only when a bar is drawn: a send from cron (no terminal) or with ``--json``
does without it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from newsroom.cli.common import console

if TYPE_CHECKING:
    from newsroom.deliver.sending import Counts, SendReport


class SendProgress:
    """A progress bar with rate and ETA on stderr (nothing when it is not a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> SendProgress:
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
                console=console(),
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


def print_send_report(report: SendReport, as_json: bool) -> None:
    """The end-of-send report: JSON for machines, a few lines for people."""
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return
    c = report.counts
    if not report.queued and report.complete:
        click.echo(
            f"Edition {report.edition} was already sent to {report.already_sent} subscriber(s); "
            "nothing to send."
        )
        print_uncertain(report)
        return
    rate = f", {c.sent / report.elapsed:.0f}/s" if report.elapsed and c.sent else ""
    click.echo(
        f"Edition {report.edition}: {c.sent} sent, {c.retried} retried, {c.bounced} bounced, "
        f"{c.failed} failed, {c.skipped} skipped"
        + (f", {c.uncertain} uncertain" if c.uncertain else "")
        + f" in {report.elapsed:.1f} s{rate}"
        + (f" ({report.workers} processes)" if report.workers > 1 else "")
    )
    if report.quota:
        click.echo(f"  limited by the sending quota: {report.quota}")
    if report.resumed:
        click.echo(
            f"  resumed: {report.resumed} message(s) were in flight when an earlier run stopped "
            "and were sent again"
        )
    if report.already_sent:
        click.echo(f"  {report.already_sent} subscriber(s) had received it in an earlier run")
    print_uncertain(report)
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
    if report.others:
        click.echo(f"  {report.others} message(s) are being sent by the other senders")


def print_uncertain(report: SendReport) -> None:
    uncertain = report.counts.uncertain + report.uncertain
    if uncertain:
        click.echo(
            f"  uncertain: the server never answered the end of {uncertain} message(s); they "
            "may or may not have arrived, and are not sent again on their own. See `newsroom "
            f"deliveries {report.edition} --status uncertain`; `newsroom send {report.edition} "
            "--resend-uncertain` sends them again (a reader who got one gets two).",
            err=True,
        )
