"""The ``newsroom`` command: the root group, its global options, and :func:`main`.

The commands live in modules by what they work on, in the order of a newsletter's day:
:mod:`.setup` (init, check, plugins), :mod:`.build` (build, render, editions, preview),
:mod:`.editorial` (notes, approve), :mod:`.themes` (themes, publish), :mod:`.subscribers`,
:mod:`.send`, :mod:`.run` and :mod:`.serve`. Each defines its commands on its own; this
module adds them to the group, then the plugins' ``register_commands`` add theirs.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from newsroom.__about__ import __version__
from newsroom.cli import (
    build,
    dev,
    doctor,
    editorial,
    mailbox,
    review,
    run,
    send,
    serve,
    setup,
    state,
    subscribers,
    themes,
)
from newsroom.cli.common import LOADED, CommandGroup, Options

#: The root group's options, which may also come after the command
#: (``newsroom render --debug``, ``newsroom build -c other/newsroom.toml``).
_GLOBAL_FLAGS = frozenset({"--debug"})
_GLOBAL_WITH_VALUE = frozenset({"-c", "--config"})


def hoist_global_options(args: list[str]) -> list[str]:
    """``args`` with the global options that follow the command moved in front of it.

    Only ``--debug`` and ``-c/--config`` move (no command has options of those names);
    nothing after a ``--`` moves."""
    start = 0
    while start < len(args):  # find the command: the first word that is not a root option
        arg = args[start]
        if arg in _GLOBAL_WITH_VALUE:
            start += 2
        elif arg.startswith("-"):
            start += 1
        else:
            break
    front, rest = list(args[:start]), []
    i = start + 1
    rest.extend(args[start:i])
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg in _GLOBAL_FLAGS:
            front.append(arg)
        elif arg in _GLOBAL_WITH_VALUE and i + 1 < len(args):
            front.extend(args[i : i + 2])
            i += 1
        elif arg.startswith("--config=") or (arg.startswith("-c") and len(arg) > 2):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


class RootGroup(CommandGroup):
    """The ``newsroom`` group: global options are taken before or after the command."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(args))


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


_MODULES = (
    setup,
    build,
    editorial,
    review,
    themes,
    subscribers,
    send,
    mailbox,
    run,
    doctor,
    serve,
    dev,
    state,
)
for _module in _MODULES:
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    """Entry point of the ``newsroom`` command."""
    from newsroom.core.plugins import load_plugins

    try:
        LOADED["plugins"] = plugins = load_plugins()
        failed: list[str] = []
        plugins.call_each("register_commands", errors=failed, cli=cli)
        for message in failed:  # a plugin's command must not break the whole CLI
            click.echo(f"Warning: {message}", err=True)
    except Exception as exc:
        click.echo(f"Warning: a plugin failed to add its commands: {exc}", err=True)
    LOADED.pop("exit_without_teardown", None)  # set by a command run in this call only
    try:
        cli(prog_name="newsroom")
    except SystemExit as exc:
        if LOADED.pop("exit_without_teardown", False):
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
