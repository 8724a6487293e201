"""``newsroom doctor``: the checks of :mod:`newsroom.ops.doctor`, as a table or JSON."""

from __future__ import annotations

import click

from newsroom.cli.common import Options, handle_errors, mirror_url, report_findings


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--strict", is_flag=True, help="Exit 4 on warnings too (for cron).")
@click.option(
    "--skip",
    multiple=True,
    type=click.Choice(["sending", "services", "sources", "mail", "links"]),
    help="Leave out a part of the round (repeatable).",
)
@click.option(
    "--mirror",
    metavar="URL|FOLDER",
    help="Fetch the sources from saved responses, as newsroom build --mirror does.",
)
@click.pass_obj
@handle_errors
def doctor(
    opts: Options, as_json: bool, strict: bool, skip: tuple[str, ...], mirror: str | None
) -> None:
    """Try, before send time, everything a day's run needs: each source answers and
    parses, tokens are accepted, the mail server connects, offers TLS and takes the login,
    the subscription pages answer over https, the signing and DKIM keys are there."""
    from newsroom.ops.doctor import diagnose

    newsletter = opts.open()
    with mirror_url(mirror) as url:
        findings = diagnose(newsletter.config, newsletter.plugins, skip=set(skip), mirror=url)
    raise SystemExit(report_findings(findings, as_json=as_json, strict=strict, title="Doctor"))


COMMANDS = [doctor]
