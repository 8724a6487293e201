"""``newsroom doctor``: whether sending through an email service is set up, without the
network."""

from __future__ import annotations

import dataclasses
import json
import sys

import click

from newsroom.cli.common import Options, handle_errors

MARK = {"ok": "ok", "info": "note", "warning": "warning", "error": "ERROR"}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report.")
@click.pass_obj
@handle_errors
def doctor(opts: Options, as_json: bool) -> None:
    """Check the sending setup: the transport's credentials, the email service's bounce and
    complaint reports, the reply mailbox, the DKIM key. Exit 1 when something is wrong."""
    from newsroom.deliver.readiness import service_findings

    findings = service_findings(opts.open().config)
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(f) for f in findings], indent=2))
    else:
        for f in findings:
            click.echo(f"{MARK[f.level]:>7}  {f.topic}: {f.message}")
    sys.exit(1 if any(f.level == "error" for f in findings) else 0)


COMMANDS = [doctor]
