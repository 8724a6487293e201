"""The ``newsroom`` command line.

Exit codes are in :mod:`newsroom.exitcodes` and ``docs/cli.md``. Errors print one line (or,
for configuration, one line per problem); ``--debug`` adds the traceback.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import datetime as dt
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from newsroom import exitcodes
from newsroom.__about__ import __version__
from newsroom.errors import ConfigError, NewsroomError

if TYPE_CHECKING:
    from rich.console import Console

    from newsroom.app import Newsletter

F = TypeVar("F", bound=Callable[..., Any])

#: The plugins `main()` loaded to add their commands, reused by the command itself.
_LOADED: dict[str, Any] = {}


class Options:
    """Options shared by every subcommand."""

    def __init__(self, config: Path | None, debug: bool) -> None:
        self.config = config
        self.debug = debug

    def open(self) -> Newsletter:
        from newsroom.app import open_newsletter

        return open_newsletter(self.config, _LOADED.get("plugins"))


def _console(stderr: bool = True) -> Console:
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newsroom")
@click.option(
    "-c",
    "--config",
    type=click.Path(path_type=Path),
    help="The newsletter's newsroom.toml (default: ./newsroom.toml).",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and plugin details.")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, debug: bool) -> None:
    """Build newsletters out of plugins: collect, curate, render and deliver."""
    import logging

    ctx.obj = Options(config, debug)
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


# -- init -----------------------------------------------------------------------------------


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path), default=".")
@click.option("--title", default="My Briefing", show_default=True, help="The newsletter's title.")
@click.option("--language", default="en", show_default=True, help="ko, en, ...")
@click.option(
    "--timezone", default="UTC", show_default=True, help="IANA time zone, e.g. Asia/Seoul."
)
@handle_errors
def init(directory: Path, title: str, language: str, timezone: str) -> None:
    """Create a newsletter (newsroom.toml) in DIRECTORY that builds as it is."""
    from importlib.resources import files

    target = directory / "newsroom.toml"
    if target.exists():
        raise ConfigError(f"{target} already exists; not overwriting it")
    directory.mkdir(parents=True, exist_ok=True)
    template = files("newsroom").joinpath("scaffold/newsroom.toml").read_text("utf-8")
    text = (
        template.replace("@TITLE@", json.dumps(title, ensure_ascii=False))
        .replace("@LANGUAGE@", json.dumps(language))
        .replace("@TIMEZONE@", json.dumps(timezone))
    )
    target.write_text(text, "utf-8")
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("build/\n.cache/\nstate.db*\nsigning-keys\n", "utf-8")
    from newsroom.tokens import rotate

    keys = directory / "signing-keys"
    if not keys.exists():
        rotate(keys)  # the key that signs unsubscribe links; private to its owner
    click.echo(f"Created {target}. Next: cd {directory} && newsroom build")


# -- build / render ---------------------------------------------------------------------------


def _parse_now(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use ISO 8601, e.g. 2026-02-14T06:00:00+09:00") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@cli.command()
@click.option(
    "--edition", "edition_id", help="Edition id (default: today's date, e.g. 2026-02-14)."
)
@click.option("--now", help="Build as of this time (ISO 8601); default: now.")
@click.option("--strict", is_flag=True, help="Exit with code 4 when any source had a problem.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report on stdout.")
@click.option("--no-render", is_flag=True, help="Only write edition.json.")
@click.option(
    "--mirror",
    metavar="URL",
    help="Fetch every URL from a mirror laid out by host: https://h/p → URL/h/p (offline work).",
)
@click.pass_obj
@handle_errors
def build(
    opts: Options,
    edition_id: str | None,
    now: str | None,
    strict: bool,
    as_json: bool,
    no_render: bool,
    mirror: str | None,
) -> None:
    """Fetch every source, filter, arrange sections, write edition.json and render it."""
    from newsroom.pipeline import build as run_build
    from newsroom.rendering import compile_templates, render
    from newsroom.source_threads import new_event_loop
    from newsroom.workers import CpuWorkers

    newsletter = opts.open()
    console = None if as_json else _console()
    quiet = console is None or not console.is_terminal
    when = _parse_now(now)

    processes = 0

    async def go() -> Any:
        nonlocal processes
        options: dict[str, Any] = {"now": when, "edition_id": edition_id, "mirror": mirror}
        # The parsing processes are forked before the live display starts its thread.
        with CpuWorkers(newsletter.config.plugins.worker_processes) as workers:
            # A worker compiles the theme's templates while the others parse: the render
            # after the build then starts with them compiled.
            warm = (
                asyncio.ensure_future(workers.run(compile_templates, newsletter.config.path))
                if workers.processes and not no_render
                else None
            )
            try:
                if quiet:
                    built = await run_build(
                        newsletter.config, newsletter.plugins, workers=workers, **options
                    )
                else:
                    # Imported here: rich's live display costs a --json build 20 ms to import.
                    from newsroom.report import LiveProgress

                    assert console is not None
                    with LiveProgress(console) as progress:
                        built = await run_build(
                            newsletter.config,
                            newsletter.plugins,
                            progress=progress,
                            workers=workers,
                            **options,
                        )
            except BaseException:
                if warm is not None:
                    warm.cancel()
                raise
            finally:
                processes = workers.processes  # after the build: 0 if the workers died
            if warm is not None:
                with contextlib.suppress(Exception):  # the render compiles what this did not
                    await warm
            return built

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        result = runner.run(go())
    started = time.perf_counter()
    outputs = [] if no_render else render(newsletter.config, newsletter.plugins, result.edition)
    if outputs:
        result.timings["render"] = round(time.perf_counter() - started, 3)
    code = exitcodes.WARNINGS if (strict and result.warnings) else exitcodes.OK
    if as_json:
        report = {
            "edition": result.edition.id,
            "title": result.edition.title,
            "edition_json": str(result.path),
            "sources": [s.model_dump() for s in result.edition.sources],
            "sections": result.kept,
            "warnings": [w.model_dump() for w in result.warnings],
            "outputs": [str(p) for p in outputs],
            "timings": result.timings,
            "worker_processes": processes,
            "exit_code": code,
        }
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        from newsroom.report import summary_tables

        out = _console(stderr=False)
        for table in summary_tables(result.edition, result.fetched):
            out.print(table)
        # Paths are printed plainly: rich would wrap them at the console width.
        click.echo(f"Edition {result.edition.id}: {result.path}")
        for path in outputs:
            click.echo(f"  wrote {path}")
        if strict and result.warnings:
            click.echo(f"{len(result.warnings)} warning(s) and --strict: exit {code}", err=True)
    _LOADED["exit_without_teardown"] = True
    sys.exit(code)


def _edition_path(newsletter: Newsletter, edition_id: str | None) -> Path:
    from newsroom.errors import BuildError

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


@cli.command()
@click.argument("edition_id", required=False)
@click.pass_obj
@handle_errors
def render(opts: Options, edition_id: str | None) -> None:
    """Render an existing edition.json again (default: the latest edition)."""
    from newsroom.model import load_edition
    from newsroom.rendering import render as run_render

    newsletter = opts.open()
    path = _edition_path(newsletter, edition_id)
    edition = load_edition(path)
    for written in run_render(newsletter.config, newsletter.plugins, edition):
        click.echo(str(written))


@cli.command("mark-published")
@click.argument("edition_id")
@click.pass_obj
@handle_errors
def mark_published(opts: Options, edition_id: str) -> None:
    """Record EDITION_ID as gone out: the history filter then skips its items."""
    from newsroom.errors import BuildError
    from newsroom.state import State

    newsletter = opts.open()
    with State(newsletter.config.state_path) as db:
        if not db.mark_published(edition_id):
            raise BuildError(f"no edition {edition_id!r} in {newsletter.config.state_path}")
    click.echo(f"Marked {edition_id} as published.")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@handle_errors
def editions(opts: Options, as_json: bool) -> None:
    """List built editions and whether they went out."""
    from newsroom.state import State

    newsletter = opts.open()
    with State(newsletter.config.state_path) as db:
        records = db.editions()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "title": r.title,
                        "date": r.date,
                        "built_at": r.built_at.isoformat(),
                        "published_at": r.published_at.isoformat() if r.published_at else None,
                    }
                    for r in records
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for r in records:
        status = f"published {r.published_at:%Y-%m-%d %H:%M}" if r.published_at else "built"
        click.echo(f"{r.id}\t{status}\t{r.title}")


# -- preview ------------------------------------------------------------------------------------


@cli.command()
@click.option("--port", default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.pass_obj
@handle_errors
def preview(opts: Options, port: int, host: str) -> None:
    """Serve the web edition and the latest email on localhost."""
    from newsroom.preview import serve

    newsletter = opts.open()
    serve(newsletter.config, host=host, port=port)


# The editor's commands (approve, notes) live in their own module.
import newsroom.cli_editorial  # noqa: E402, F401

# The theme and web-edition commands (themes, theme new, publish) live in their own module.
import newsroom.cli_themes  # noqa: E402, F401

# The list and delivery commands live in their own module; importing it adds them to `cli`.
from newsroom import cli_mail  # noqa: E402, F401


def main() -> None:
    """Entry point of the ``newsroom`` command."""
    from newsroom.manager import load_plugins

    try:
        _LOADED["plugins"] = plugins = load_plugins()
        failed: list[str] = []
        plugins.call_each("register_commands", errors=failed, cli=cli)
        for message in failed:  # a plugin's command must not break the whole CLI
            click.echo(f"Warning: {message}", err=True)
    except Exception as exc:
        click.echo(f"Warning: a plugin failed to add its commands: {exc}", err=True)
    _LOADED.pop("exit_without_teardown", None)  # set by a command run in this call only
    try:
        cli(prog_name="newsroom")
    except SystemExit as exc:
        if _LOADED.pop("exit_without_teardown", False):
            _exit_without_teardown(exc.code)
        raise


def _exit_without_teardown(code: object) -> NoReturn:
    """End the process as ``sys.exit(code)`` would, less the interpreter's teardown.

    After a build the process holds 10,000 items and everything they reference, which the
    teardown frees object by object: 0.2 s of a 200-feed build, for nothing. Exit handlers
    still run (logging flushes, temporary folders are removed) and the standard streams are
    flushed; every file the build wrote is closed by then. Only the ``newsroom`` command does
    this (:func:`main`), never a command invoked from Python.
    """
    atexit._run_exitfuncs()
    status = 0 if code is None else code if isinstance(code, int) else 1
    if not isinstance(code, int | None):
        print(code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(status)


# The plugin commands (plugins, install, uninstall, check, schema) live in their own module.
from newsroom import cli_plugins  # noqa: E402, F401
