"""Stand-ins for trying a newsletter out on one machine: ``dev-smtp``, a mail server that
keeps what it receives."""

from __future__ import annotations

import time
from pathlib import Path

import click

from newsroom.cli.common import Options, handle_errors
from newsroom.core.errors import UsageError

#: Where ``dev-smtp`` listens unless told otherwise: the scaffold's ``[transport]``.
DEFAULT_PORT = 2525


def _mail_folder(opts: Options) -> Path:
    """The newsletter's ``<output>/dev-mail/`` (``newsroom preview`` shows it), or
    ``./dev-mail`` away from a newsletter."""
    from newsroom.config import find_config

    path = find_config(opts.config)
    if opts.config is None and not path.exists():
        return Path("dev-mail")
    from newsroom.config.outputs import dev_mail_dir

    return dev_mail_dir(opts.open().config)


@click.command("dev-smtp")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--folder",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where to keep the messages (default: the newsletter's build/dev-mail/).",
)
@click.pass_obj
@handle_errors
def dev_smtp(opts: Options, host: str, port: int, folder: Path | None) -> None:
    """Run a mail server for trying things out: it accepts every message and keeps it as a
    .eml file, delivering nothing.

    newsroom init's [transport] sends to it (127.0.0.1:2525, security "none"), so
    `newsroom send --to you@example.org` works at once; `newsroom preview` shows what
    arrived. Stop it with Ctrl-C.
    """
    from newsroom.dev.smtpsink import Received, SmtpSink

    folder = folder or _mail_folder(opts)

    def arrived(message: Received, path: Path | None) -> None:
        parsed = message.parsed()
        subject = " ".join(str(parsed["Subject"] or "(no subject)").split())
        click.echo(
            f"{time.strftime('%H:%M:%S')}  {subject}\n"
            f"          to {', '.join(message.recipients)} from {message.sender or '<>'}, "
            f"{len(message.data) / 1024:.0f} KB → {path}"
        )

    sink = SmtpSink(folder=folder, host=host, port=port, on_message=arrived)
    try:
        sink.start()
    except (OSError, RuntimeError) as exc:
        raise UsageError(
            f"cannot listen on {host}:{port} ({exc}); another dev-smtp may run there: use "
            "--port N, and the same port in [transport]"
        ) from None
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(
            f"Warning: listening on {host}: anyone who can reach it can fill {folder}.", err=True
        )
    click.echo(
        f"Receiving mail at smtp://{host}:{port} and keeping it in {folder}/ (Ctrl-C stops).\n"
        f'In newsroom.toml: [transport] plugin = "smtp", host = "{host}", port = {port}, '
        'security = "none".'
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        click.echo(f"Stopped; {sink.total} message(s) received this time.")
    finally:
        sink.stop()


#: The commands this module adds to ``newsroom``.
COMMANDS = [dev_smtp]
