"""What every command shares: the global options, error handling, the console, and
finding an edition. Every command module imports this one; none imports another.

Exit codes are in :mod:`newsroom.core.exitcodes` and ``docs/cli.md``. Errors print one line (or,
for configuration, one line per problem); ``--debug`` adds the traceback.
"""

from __future__ import annotations

import datetime as dt
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from newsroom.core import exitcodes
from newsroom.core.errors import NewsroomError

if TYPE_CHECKING:
    from rich.console import Console

    from newsroom.config.newsletter import Newsletter
    from newsroom.core.findings import Finding

F = TypeVar("F", bound=Callable[..., Any])

#: What `main()` set up for the command it runs: the plugins it loaded to add their
#: commands (reused by the command itself), and whether to skip the interpreter's teardown.
LOADED: dict[str, Any] = {}


class Options:
    """Options shared by every subcommand."""

    def __init__(self, config: Path | None, debug: bool) -> None:
        self.config = config
        self.debug = debug

    def open(self) -> Newsletter:
        from newsroom.config.newsletter import open_newsletter

        return open_newsletter(self.config, LOADED.get("plugins"))


class CommandGroup(click.Group):
    """A group whose ``--help`` lists each command with its whole first sentence, wrapped,
    instead of click's first 45-odd characters and an ellipsis."""

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is None or command.hidden:
                continue
            rows.append((name, command.get_short_help_str(limit=10_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def console(stderr: bool = True) -> Console:
    """A rich console on stderr (or stdout), without syntax highlighting."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def handle_errors(fn: F) -> F:
    """Turn exceptions into one-line messages and exit codes; tracebacks only with --debug."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        debug = bool(ctx.find_object(Options) and ctx.find_object(Options).debug)  # type: ignore[union-attr]
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.Exit, click.exceptions.Abort, click.UsageError):
            raise
        except NewsroomError as exc:
            if debug:
                traceback.print_exc()
            click.echo(f"Error: {exc.format_message()}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        except Exception as exc:
            if debug or os.environ.get("NEWSROOM_RAISE_ERRORS"):
                raise
            click.echo(
                f"Error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)",
                err=True,
            )
            ctx.exit(exitcodes.FAILURE)

    return wrapper  # type: ignore[return-value]


@contextmanager
def mirror_url(value: str | None) -> Iterator[str | None]:
    """The URL ``--mirror`` stands for: an http(s) URL as it is, or for a folder of saved
    responses laid out by host (``FOLDER/host/path``), a server on 127.0.0.1 that serves it
    for as long as the block runs."""
    if not value or value.startswith(("http://", "https://")):
        yield value
        return
    folder = Path(value).expanduser()
    if not folder.is_dir():
        raise click.BadParameter(
            f"{value!r} is neither an http(s) URL nor a folder", param_hint="'--mirror'"
        )
    from newsroom.dev.httpserver import LocalServer

    with LocalServer(folder.resolve()) as server:
        yield server.url


def parse_now(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use ISO 8601, e.g. 2026-02-14T06:00:00+09:00") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def edition_path(newsletter: Newsletter, edition_id: str | None) -> Path:
    from newsroom.core.errors import BuildError

    editions = newsletter.config.output_dir / "editions"
    if edition_id:
        path = editions / edition_id / "edition.json"
        if not path.exists():
            raise BuildError(f"no edition {edition_id!r} in {editions} (build it first)")
        return path
    found = sorted(editions.glob("*/edition.json"))
    if not found:
        raise BuildError(f"no editions in {editions}; run `newsroom build` first")
    return max(found, key=lambda p: p.stat().st_mtime)


def edition_id_of(newsletter: Newsletter, edition_id: str | None) -> str:
    """``edition_id`` when it was built, else the latest edition's id."""
    return edition_path(newsletter, edition_id).parent.name


def report_findings(findings: list[Finding], *, as_json: bool, strict: bool, title: str) -> int:
    """Print ``findings`` (a table, or JSON on stdout) and return the exit code they call for:
    CHECK_PROBLEMS for any problem, WARNINGS for a warning under ``--strict``, else OK."""
    import json

    from newsroom.core.findings import Level, worst

    level = worst(findings)
    if level is Level.PROBLEM:
        code = exitcodes.CHECK_PROBLEMS
    elif level is Level.WARNING and strict:
        code = exitcodes.WARNINGS
    else:
        code = exitcodes.OK
    if as_json:
        report = {
            "level": level.value,
            "exit_code": code,
            "findings": [f.as_dict() for f in findings],
        }
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return code
    from rich.table import Table
    from rich.text import Text

    styles = {"ok": "green", "note": "cyan", "warning": "yellow", "problem": "red"}
    table = Table(title=title, title_justify="left")
    for col in ("check", "", "found"):
        table.add_column(col)
    for f in findings:
        found = Text(f.message)
        if f.hint:
            found.append(f"\n→ {f.hint}", style="dim")
        table.add_row(f.check, Text(f.level.value, style=styles[f.level.value]), found)
    console(stderr=False).print(table)
    return code
