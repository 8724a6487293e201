"""Building and looking at editions: ``build``, ``render``, ``editions``, ``mark-published``
and ``preview``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from typing import Any

import click

from newsroom.cli.common import (
    LOADED,
    Options,
    console,
    edition_path,
    handle_errors,
    mirror_url,
    parse_now,
)
from newsroom.core import exitcodes


@click.command()
@click.option(
    "--edition", "edition_id", help="Edition id (default: today's date, e.g. 2026-02-14)."
)
@click.option("--now", help="Build as of this time (ISO 8601); default: now.")
@click.option("--strict", is_flag=True, help="Exit with code 4 when any source had a problem.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable report on stdout.")
@click.option("--no-render", is_flag=True, help="Only write edition.json.")
@click.option(
    "--mirror",
    metavar="URL|FOLDER",
    help="Fetch every URL from a mirror laid out by host: https://h/p → URL/h/p, or from a "
    "folder of saved responses, FOLDER/h/p (offline work).",
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
    from newsroom.collect.source_threads import new_event_loop
    from newsroom.collect.workers import CpuWorkers
    from newsroom.curate.pipeline import build as run_build
    from newsroom.render.rendering import compile_templates, render
    from newsroom.render.themes import check_theme

    newsletter = opts.open()
    check_theme(newsletter.config)
    live = None if as_json else console()
    quiet = live is None or not live.is_terminal
    when = parse_now(now)

    processes = 0

    async def go() -> Any:
        nonlocal processes
        options: dict[str, Any] = {"now": when, "edition_id": edition_id}
        # The parsing processes are forked before the live display (and a mirror's server)
        # starts its thread.
        with (
            CpuWorkers(newsletter.config.plugins.worker_processes) as workers,
            mirror_url(mirror) as options["mirror"],
        ):
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
                    from newsroom.cli.build_report import LiveProgress

                    assert live is not None
                    with LiveProgress(live) as progress:
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
        from newsroom.cli.build_report import summary_tables

        out = console(stderr=False)
        for table in summary_tables(result.edition, result.fetched):
            out.print(table)
        # Paths are printed plainly: rich would wrap them at the console width.
        click.echo(f"Edition {result.edition.id}: {result.path}")
        for path in outputs:
            click.echo(f"  wrote {path}")
        if strict and result.warnings:
            click.echo(f"{len(result.warnings)} warning(s) and --strict: exit {code}", err=True)
    LOADED["exit_without_teardown"] = True
    sys.exit(code)


@click.command()
@click.argument("edition_id", required=False)
@click.pass_obj
@handle_errors
def render(opts: Options, edition_id: str | None) -> None:
    """Render an existing edition.json again (default: the latest edition)."""
    from newsroom.core.sanitize import load_edition
    from newsroom.render.rendering import render as run_render

    newsletter = opts.open()
    path = edition_path(newsletter, edition_id)
    edition = load_edition(path)
    for written in run_render(newsletter.config, newsletter.plugins, edition):
        click.echo(str(written))


@click.command("mark-published")
@click.argument("edition_id")
@click.pass_obj
@handle_errors
def mark_published(opts: Options, edition_id: str) -> None:
    """Record EDITION_ID as gone out: the history filter then skips its items."""
    from newsroom.core.errors import BuildError
    from newsroom.store.state import State

    newsletter = opts.open()
    with State.of(newsletter.config) as db:
        if not db.mark_published(edition_id):
            raise BuildError(f"no edition {edition_id!r} in {db.label}")
    click.echo(f"Marked {edition_id} as published.")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@handle_errors
def editions(opts: Options, as_json: bool) -> None:
    """List built editions and whether they went out."""
    from newsroom.store.state import State

    newsletter = opts.open()
    with State.of(newsletter.config) as db:
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


@click.command()
@click.option("--port", default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.pass_obj
@handle_errors
def preview(opts: Options, port: int, host: str) -> None:
    """Serve the web edition and the latest email on localhost."""
    from newsroom.render.preview import serve

    newsletter = opts.open()
    serve(newsletter.config, host=host, port=port)


#: The commands this module adds to ``newsroom``.
COMMANDS = [build, render, mark_published, editions, preview]
