"""Commands for the look and the web edition: ``themes``, ``theme new`` and ``publish``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from newsroom.cli.common import (
    CommandGroup,
    Options,
    console,
    edition_path,
    handle_errors,
    report_findings,
)

# -- themes ---------------------------------------------------------------------------------


def _configured_theme(opts: Options) -> tuple[str, Path] | None:
    """The ``[newsletter] theme`` of the newsletter in reach, without loading its plugins."""
    from newsroom.config import find_config, read_toml

    try:
        path = find_config(opts.config).resolve()
        data = read_toml(path)
    except Exception:  # no newsletter here: list the installed themes only
        return None
    newsletter = data.get("newsletter")
    theme = newsletter.get("theme", "default") if isinstance(newsletter, dict) else "default"
    return (theme, path.parent) if isinstance(theme, str) else None


def theme_listing(opts: Options) -> list[dict[str, Any]]:
    """What ``newsroom themes --json`` prints: one entry per theme."""
    from newsroom.core.errors import NewsroomError
    from newsroom.render.themes import available_themes, is_path, load_theme

    configured = _configured_theme(opts)
    rows: list[dict[str, Any]] = []
    names = sorted(available_themes().items())
    refs: list[tuple[str, Path | None]] = [(name, None) for name, _ in names]
    if configured and is_path(configured[0]):
        refs.append(configured)
    for ref, root in refs:
        try:
            theme = load_theme(ref, root=root)
        except NewsroomError as exc:  # a broken theme must not hide the others
            rows.append({"name": ref, "origin": "?", "error": exc.format_message()})
            continue
        rows.append(
            {
                "name": theme.name,
                "origin": theme.origin,
                "package": theme.package,
                "version": next((i.version for n, i in names if n == theme.name), ""),
                "extends": theme.parent.name if theme.parent else None,
                "chain": [t.name for t in theme.chain],
                "description": theme.description,
                "path": str(theme.path),
                "settings": theme.settings,
                "in_use": configured is not None and configured[0] == ref,
            }
        )
    return rows


@click.command("themes")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@handle_errors
def themes(opts: Options, as_json: bool) -> None:
    """List themes: first-party, installed packages, and the newsletter's own theme folder."""
    rows = theme_listing(opts)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Themes", title_justify="left")
    for col in ("theme", "from", "extends", "description"):
        table.add_column(col)
    for row in rows:
        if "error" in row:
            table.add_row(row["name"], "?", "—", Text(row["error"], style="red"))
            continue
        origin = (
            row["origin"] if row["origin"] != "package" else f"{row['package']} {row['version']}"
        )
        name = f"{row['name']} (in use)" if row["in_use"] else row["name"]
        table.add_row(name, origin, row["extends"] or "—", Text(row["description"]))
    console(stderr=False).print(table)


# -- theme new ------------------------------------------------------------------------------


@click.group("theme", cls=CommandGroup)
def theme_group() -> None:
    """Make a theme of your own."""


@theme_group.command("new")
@click.argument("name")
@click.option("--extends", default="default", show_default=True, help="The parent theme.")
@click.option(
    "--directory",
    type=click.Path(path_type=Path),
    help="Where to create it (default: ./NAME).",
)
@click.option(
    "--package",
    is_flag=True,
    help="Make it an installable package with a newsroom.themes entry point.",
)
@handle_errors
def theme_new(name: str, extends: str, directory: Path | None, package: bool) -> None:
    """Create the theme NAME: a folder that builds at once, extending a parent theme, with
    comments naming every block and partial to override."""
    from newsroom.render.new_theme import scaffold_theme

    target = directory or Path(name)
    made = scaffold_theme(name, target, extends=extends, root=Path.cwd(), package=package)
    for path in made.files:
        click.echo(f"  created {path}")
    # A path, never a bare name: pip reads `pip install NAME` as a package index's name.
    ref = target.as_posix() if target.is_absolute() else f"./{target.as_posix()}"
    if package:
        click.echo(
            f'Install it with `pip install {ref}`, then set theme = "{name}" in [newsletter].'
        )
    else:
        click.echo(f'Use it with theme = "{ref}" in [newsletter] (relative to newsroom.toml).')


@theme_group.command("check")
@click.argument("theme", required=False)
@click.option("--edition", "edition_id", help="The edition to render (default: the latest).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--strict", is_flag=True, help="Exit 4 on warnings too.")
@click.pass_obj
@handle_errors
def theme_check(
    opts: Options, theme: str | None, edition_id: str | None, as_json: bool, strict: bool
) -> None:
    """Check THEME (default: the newsletter's) with newsroom alone: the email of the latest
    edition compiles, holds no MJML and stays under Gmail's clipping size; the settings'
    contrast; strings without a translation in the newsletter's language."""
    from newsroom.core.errors import BuildError
    from newsroom.core.sanitize import load_edition
    from newsroom.render.theme_check import theme_findings

    newsletter = opts.open()
    try:
        edition = load_edition(edition_path(newsletter, edition_id))
    except BuildError:
        if edition_id:
            raise
        edition = None  # nothing built yet: the checks that need no edition still run
    findings = theme_findings(newsletter.config, newsletter.plugins, edition, theme)
    raise SystemExit(report_findings(findings, as_json=as_json, strict=strict, title="Theme check"))


# -- publish --------------------------------------------------------------------------------


@click.command()
@click.option(
    "--to",
    "to",
    type=click.Path(path_type=Path),
    help="Copy the site to this folder (default: [publish] directory).",
)
@click.option(
    "--branch", help="Commit the site to this git branch (default: [publish] git_branch)."
)
@click.option("--remote", help="Push the branch to this remote (default: [publish] git_remote).")
@click.option("--full", is_flag=True, help="Render every page of the site again first.")
@click.option("--no-render", is_flag=True, help="Publish build/site as it is.")
@click.option(
    "--force",
    is_flag=True,
    help="Replace files in the folder that newsroom did not publish there.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@handle_errors
def publish(
    opts: Options,
    to: Path | None,
    branch: str | None,
    remote: str | None,
    full: bool,
    no_render: bool,
    force: bool,
    as_json: bool,
) -> None:
    """Publish the web edition: copy it to a folder any web server (or rsync) can serve, or
    commit it to a git branch (GitHub Pages), or both. The site is brought up to date first,
    rendering only the pages that changed."""
    from newsroom.core.errors import ConfigError
    from newsroom.core.sanitize import load_edition
    from newsroom.render.publishing import publish_to_branch, publish_to_folder, repository_of
    from newsroom.render.rendering import render

    newsletter = opts.open()
    config = newsletter.config
    target = to.resolve() if to else config.publish_dir
    branch = branch if branch is not None else config.publish.git_branch
    remote = remote if remote is not None else config.publish.git_remote
    if target is None and not branch:
        raise ConfigError(
            "nothing to publish to: set [publish] directory or git_branch, or give --to/--branch"
        )
    edition = load_edition(edition_path(newsletter, None))
    if not no_render:
        options = {"web": {"incremental": False}} if full else None
        render(config, newsletter.plugins, edition, only={"web"}, options=options)
    site = config.output_dir / "site"
    report: dict[str, Any] = {"site": str(site), "edition": edition.id}
    if target is not None:
        done = publish_to_folder(site, target, output=config.output_dir, force=force)
        report["folder"] = {
            "path": str(done.target),
            "copied": len(done.copied),
            "removed": len(done.removed),
            "unchanged": done.unchanged,
        }
    if branch:
        repo = repository_of(config.root)
        committed = publish_to_branch(
            site, repo, branch, message=f"Publish {edition.id}: {edition.title}", remote=remote
        )
        report["branch"] = {
            "repository": str(committed.repository),
            "branch": committed.branch,
            "commit": committed.commit,
            "changed": committed.changed,
            "pushed_to": committed.pushed_to,
        }
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    if "folder" in report:
        f = report["folder"]
        click.echo(
            f"Published {site} to {f['path']}: {f['copied']} copied, {f['removed']} removed, "
            f"{f['unchanged']} unchanged"
        )
    if "branch" in report:
        b = report["branch"]
        what = f"committed {b['commit'][:12]} to" if b["changed"] else "already on"
        pushed = f", pushed to {b['pushed_to']}" if b["pushed_to"] else ""
        click.echo(f"Published {site}: {what} branch {b['branch']} of {b['repository']}{pushed}")


#: The commands this module adds to ``newsroom``.
COMMANDS = [themes, theme_group, publish]
