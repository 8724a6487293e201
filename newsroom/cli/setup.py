"""Setting a newsletter up: ``init``, ``check``, ``schema``, and the plugins it uses:
``plugins``, ``install``, ``uninstall``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from newsroom.cli.common import LOADED, CommandGroup, Options, console, handle_errors
from newsroom.core import exitcodes
from newsroom.core.errors import ConfigError

if TYPE_CHECKING:
    from newsroom.core.plugins import Plugins


@click.command()
@click.argument("directory", type=click.Path(path_type=Path), default=".")
@click.option("--title", help="The newsletter's title (default: the language's, e.g. My Briefing).")
@click.option(
    "--language",
    default="en",
    show_default=True,
    help="ko, en, ...: the scaffold's words, the dates and the theme's strings.",
)
@click.option(
    "--timezone",
    help="IANA time zone, e.g. Asia/Seoul (default: the language's, else this machine's).",
)
@click.option(
    "--example",
    metavar="NAME",
    help="Start from an example newsletter shipped with newsroom (ai-briefing), with its "
    "sample data for building offline.",
)
@click.option(
    "--github-actions",
    is_flag=True,
    help="Also write .github/workflows/newsroom-NAME.yml here: build and publish the web "
    "edition on GitHub Pages every morning (never send). For an existing newsletter, only that.",
)
@handle_errors
def init(
    directory: Path,
    title: str | None,
    language: str,
    timezone: str | None,
    example: str | None,
    github_actions: bool,
) -> None:
    """Create a newsletter (newsroom.toml) in DIRECTORY that builds as it is."""
    from newsroom.config import starter
    from newsroom.deliver.tokens import rotate

    target = directory / "newsroom.toml"
    if target.exists() and github_actions and not (title or example):
        _write_workflow(directory)
        return
    if target.exists():
        raise ConfigError(f"{target} already exists; not overwriting it")
    if example:
        given = [name for name, value in (("--title", title), ("--timezone", timezone)) if value]
        if language != "en":
            given.append("--language")
        if given:
            raise click.UsageError(
                f"--example copies the example as it is; leave out {', '.join(given)} and "
                "change its newsroom.toml afterwards"
            )
        starter.copy_example(example, directory)
        where = ""
    else:
        language = starter.check_language(language)
        timezone, why = starter.choose_timezone(timezone, language)
        directory.mkdir(parents=True, exist_ok=True)
        target.write_text(starter.starter_config(title, language, timezone), "utf-8")
        where = f"time zone {timezone} ({why})"
    gitignore = directory / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("build/\n.cache/\nstate.db*\nsigning-keys\n", "utf-8")
    keys = directory / "signing-keys"
    if not keys.exists():
        rotate(keys)  # the key that signs unsubscribe links; private to its owner
    cd = "" if directory.resolve() == Path.cwd().resolve() else f"cd {directory}\n  "
    if example:
        as_of = starter.EXAMPLE_AS_OF.get(example)
        offline = f" --now {as_of}" if as_of else ""
        click.echo(f"Created {target} from the example {example!r}. Next:")
        click.echo(
            f"  {cd}newsroom build --mirror sample-data{offline}\n"
            "                      # offline: from its saved responses, as of their morning\n"
            "  newsroom preview    # http://127.0.0.1:8000/"
        )
    else:
        click.echo(f"Created {target}: language {language}, {where}. Next:")
        click.echo(
            f"  {cd}newsroom build      # fetches the sources\n"
            "  newsroom preview    # http://127.0.0.1:8000/"
        )
    click.echo(
        "  newsroom dev-smtp   # in another terminal: a local mail server that keeps what it gets\n"
        "  newsroom send --to you@example.org   # a test copy, to that server"
    )
    if github_actions:
        _write_workflow(directory)


def _write_workflow(directory: Path) -> None:
    from newsroom.config import read_toml
    from newsroom.config.workflow import write_workflow

    path = write_workflow(directory, Path.cwd(), read_toml(directory / "newsroom.toml"))
    click.echo(
        f"Wrote {path}: it builds and publishes the web edition on GitHub Pages every "
        "morning, and never sends (keep subscribers out of the repository). Set Settings > "
        "Pages > Source to GitHub Actions."
    )


_KIND_KEYS = ("sources", "filters", "sections", "renderers", "transports")


def _installed() -> Plugins:
    """The plugins ``main()`` loaded, or every installed plugin."""
    from newsroom.core.plugins import load_plugins

    loaded: Plugins | None = LOADED.get("plugins")
    return loaded if loaded is not None else load_plugins()


def _with_config(opts: Options) -> tuple[Plugins, list[str]]:
    """The installed plugins as the newsletter's ``[plugins]`` table changes them (when there
    is a newsroom.toml), and any problem with that table."""
    from newsroom.config import find_config, read_toml
    from newsroom.config.newsletter import plugins_for
    from newsroom.core.errors import ConfigError

    path = find_config(opts.config)
    if opts.config is None and not path.exists():
        return _installed(), []
    try:
        data = read_toml(path)
    except ConfigError as exc:
        if opts.config is not None:
            raise
        # A broken newsroom.toml in the current folder must not hide the installed plugins.
        return _installed(), [f"{path}: {p}" for p in exc.problems]
    return plugins_for(data, path.resolve(), _installed())


def plugin_listing(plugins: Plugins) -> dict[str, Any]:
    """What ``newsroom plugins --json`` prints."""
    from newsroom.core.hookspecs import API_VERSION
    from newsroom.render.themes import available_themes

    registries = plugins.all_registries()
    rows: dict[str, dict[str, Any]] = {
        name: {
            "name": name,
            "package": info.package,
            "version": info.version,
            "module": info.module,
            "api": info.api,
            **{key: [] for key in _KIND_KEYS},
        }
        for name, info in plugins.info.items()
    }
    for kind, registry in registries.items():
        for reg in registry:
            row = rows.setdefault(reg.plugin, {"name": reg.plugin, "package": reg.package})
            row.setdefault(f"{kind}s", []).append(reg.name)
    themes = [
        {"name": name, "package": t.package, "version": t.version, "path": str(t.path)}
        for name, t in sorted(available_themes().items())
    ]
    return {
        "api_version": API_VERSION,
        "plugins": list(rows.values()),
        "themes": themes,
        "failures": [
            {
                "name": f.name,
                "package": f.package,
                "version": f.version,
                "stage": f.stage,
                "error": f.error,
                "message": f.message(),
            }
            for f in plugins.failures
        ],
        "skipped": [
            {"name": s.name, "package": s.package, "version": s.version, "reason": s.reason}
            for s in plugins.skipped
        ],
        "deprecations": [d.message() for d in plugins.deprecations],
    }


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@handle_errors
def plugins(opts: Options, as_json: bool) -> None:
    """List plugins and themes: package, version, and what each registers.

    In a newsletter's folder (or with -c), its [plugins] table applies: disabled plugins
    are shown as skipped and the plugins_dir files are listed too.
    """
    loaded, problems = _with_config(opts)
    listing = plugin_listing(loaded)
    if as_json:
        listing["problems"] = problems
        click.echo(json.dumps(listing, indent=2, ensure_ascii=False))
        return
    from rich.table import Table

    table = Table(
        title=f"Plugins (hook API {listing['api_version']})", title_justify="left", min_width=60
    )
    for col in ("plugin", "package", "version", "hook API", "registers"):
        table.add_column(col)
    for row in listing["plugins"]:
        parts = [f"{k}: {', '.join(row[k])}" for k in _KIND_KEYS if row.get(k)]
        # A plugin without NEWSROOM_API is taken to support the current API (api_problem).
        api = row.get("api") or "any"
        version = row.get("version", "?")
        table.add_row(row["name"], row["package"], version, api, "\n".join(parts))
    for theme in listing["themes"]:
        name = theme["name"]
        table.add_row(name, theme["package"], theme["version"], "", f"theme: {name}")
    out = console(stderr=False)
    out.print(table)
    for skipped in listing["skipped"]:
        out.print(f"skipped: {skipped['name']} ({skipped['package']}): {skipped['reason']}")
    for deprecation in listing["deprecations"]:
        out.print(f"[yellow]{deprecation}[/]")
    for failure in listing["failures"]:
        out.print(f"[red]{failure['message']}[/]")
    for problem in problems:
        out.print(f"[red]{problem}[/]")


# -- install / uninstall ----------------------------------------------------------------------


def _pip(*args: str) -> int:
    """Run pip of the interpreter running newsroom, so packages land next to newsroom."""
    return subprocess.run([sys.executable, "-m", "pip", *args]).returncode


def _listing_in_new_process() -> dict[str, Any] | None:
    """``newsroom plugins --json`` as a fresh process sees it (this one cannot see packages
    installed after it started, editable ones in particular)."""
    result = subprocess.run(
        [sys.executable, "-m", "newsroom", "plugins", "--json"],
        capture_output=True,
        text=True,
        # Away from any newsroom.toml here, whose plugins_dir files are not installed ones.
        cwd=sys.prefix,
    )
    try:
        data: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        return None
    return data


@click.command()
@click.argument("packages", nargs=-1)
@click.option("-U", "--upgrade", is_flag=True, help="Upgrade packages to their newest version.")
@click.option(
    "-e",
    "--editable",
    multiple=True,
    metavar="PATH",
    help="Install the project at PATH in editable mode (for plugin development).",
)
@click.option("--force-reinstall", is_flag=True, help="Reinstall even if already installed.")
@handle_errors
def install(
    packages: tuple[str, ...], upgrade: bool, editable: tuple[str, ...], force_reinstall: bool
) -> None:
    """Install plugin PACKAGES into newsroom's own environment (pip install).

    PACKAGES are what pip takes: names from the package index (newsroom-sitemap), local
    folders (./newsroom-sitemap), wheels or URLs.
    """
    if not packages and not editable:
        raise click.UsageError("name at least one package, or -e PATH")
    before = _installed()
    known = set(before.info) | {f.name for f in before.failures}
    args = ["install", "--disable-pip-version-check"]
    if upgrade:
        args.append("--upgrade")
    if force_reinstall:
        args.append("--force-reinstall")
    for path in editable:
        args += ["--editable", path]
    code = _pip(*args, *packages)
    if code != 0:
        click.echo(f"Error: pip install failed (exit {code}); nothing was changed.", err=True)
        sys.exit(exitcodes.FAILURE)
    listing = _listing_in_new_process()
    if listing is None:
        click.echo("Installed. `newsroom plugins` lists what is available now.")
        return
    added = [p for p in listing["plugins"] if p["name"] not in known]
    for row in added:
        parts = [f"{k}: {', '.join(row[k])}" for k in _KIND_KEYS if row.get(k)]
        what = "; ".join(parts) or "no components"
        click.echo(f"Added plugin {row['name']} ({row['package']} {row['version']}): {what}")
    if not added:
        hint = (
            "; NEWSROOM_LOAD_PLUGINS is set and may leave them out"
            if "NEWSROOM_LOAD_PLUGINS" in os.environ
            else " (upgraded, or the package registers none)"
        )
        click.echo(f"Installed; no new plugins{hint}.")
    for failure in listing["failures"]:
        if failure["name"] not in known:
            click.echo(f"Warning: {failure['message']}", err=True)


@click.command()
@click.argument("packages", nargs=-1, required=True)
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@handle_errors
def uninstall(packages: tuple[str, ...], yes: bool) -> None:
    """Uninstall plugin PACKAGES from newsroom's environment (pip uninstall)."""
    from packaging.utils import canonicalize_name

    from newsroom.__about__ import DISTRIBUTION

    if any(canonicalize_name(p) in ("newsroom", DISTRIBUTION) for p in packages):
        raise click.UsageError(
            f"newsroom does not uninstall itself; use pip uninstall {DISTRIBUTION}"
        )
    code = _pip("uninstall", "--disable-pip-version-check", *(["--yes"] if yes else []), *packages)
    if code != 0:
        click.echo(f"Error: pip uninstall failed (exit {code}).", err=True)
        sys.exit(exitcodes.FAILURE)


# -- check / schema ----------------------------------------------------------------------------


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_obj
@handle_errors
def check(opts: Options, as_json: bool) -> None:
    """Validate newsroom.toml, every plugin's options and the theme, fetching nothing.

    Every problem is listed at once, and for a newsletter that sends, everything `newsroom
    send` still needs. Exit 0 when it would build and send, 3 when not.
    """
    from newsroom.cli.checks import check_newsletter
    from newsroom.core.findings import Level

    report = check_newsletter(opts.config, LOADED.get("plugins"))
    code = exitcodes.OK if report.ok else exitcodes.CONFIG
    if as_json:
        click.echo(
            json.dumps(
                {
                    "config": str(report.path),
                    "ok": report.ok,
                    "builds": report.builds,
                    "problems": report.problems,
                    "warnings": report.warnings,
                    "sending": [f.as_dict() for f in report.sending],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        sys.exit(code)
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if not report.builds:
        from newsroom.core.errors import ConfigError

        error = ConfigError(report.problems, path=str(report.path))
        click.echo(f"Error: {error.format_message()}", err=True)
        sys.exit(code)
    config = report.config
    assert config is not None
    counts = ", ".join(
        f"{len(items)} {table}"
        for table, items in (
            ("sources", config.sources),
            ("filters", config.filters),
            ("sections", config.sections),
            ("renderers", config.renderers),
        )
    )
    transport = f", transport {config.transport.plugin}" if config.transport else ""
    needs = [f for f in report.sending if f.level is Level.PROBLEM]
    advice = [f for f in report.sending if f.level is Level.WARNING]
    verdict = "builds" if needs else "OK"
    click.echo(f"{report.path}: {verdict} ({counts}{transport}; theme {config.newsletter.theme})")
    if needs:
        click.echo(f"It builds; `newsroom send` still needs {len(needs)} thing(s):", err=True)
        for finding in needs:
            click.echo(f"  - {finding.line()}", err=True)
    if advice:
        click.echo("Before it goes to readers:", err=True)
        for finding in advice:
            click.echo(f"  - {finding.line()}", err=True)
    sys.exit(code)


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file (default: standard output).",
)
@click.option(
    "--markdown", is_flag=True, help="A Markdown reference of every plugin's options instead."
)
@click.pass_obj
@handle_errors
def schema(opts: Options, output: Path | None, markdown: bool) -> None:
    """Write a JSON Schema of newsroom.toml for the installed plugins (for editors).

    Put `#:schema ./newsroom.config.schema.json` on the first line of newsroom.toml and taplo or
    Even Better TOML completes and checks options as you type. Regenerate it after
    installing a plugin.
    """
    loaded, problems = _with_config(opts)
    for problem in problems:
        click.echo(f"Warning: {problem}", err=True)
    if markdown:
        from newsroom.config.reference import options_reference

        text = options_reference(loaded)
    else:
        from newsroom.config.schema import config_schema

        text = json.dumps(config_schema(loaded), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, "utf-8")
        click.echo(f"Wrote {output}", err=True)


#: The commands this module adds to ``newsroom``.
# -- plugin new ---------------------------------------------------------------------------------


@click.group("plugin", cls=CommandGroup)
def plugin_group() -> None:
    """Make a plugin package of your own."""


@plugin_group.command("new")
@click.argument("name")
@click.option(
    "--source",
    "kind",
    flag_value="source",
    default=True,
    help="A source: items from a list of links (the default).",
)
@click.option("--filter", "kind", flag_value="filter", help="A filter: drops items by words.")
@click.option("--renderer", "kind", flag_value="renderer", help="A renderer: links as JSON.")
@click.option(
    "--directory",
    type=click.Path(path_type=Path),
    help="Where to create it (default: ./newsroom-NAME).",
)
@handle_errors
def plugin_new(name: str, kind: str, directory: Path | None) -> None:
    """Create the package newsroom-NAME: one source (or filter, or renderer) called NAME
    with its tests, which installs and passes as it is."""
    from newsroom.config.new_plugin import scaffold_plugin

    made = scaffold_plugin(name, directory, kind=kind)
    for path in made.files:
        click.echo(f"  created {path}")
    # pip reads a bare name as one from the package index: a folder needs a path.
    ref = made.folder.as_posix() if made.folder.is_absolute() else f"./{made.folder.as_posix()}"
    click.echo(
        f"Install it with `pip install -e '{ref}[test]'` (in newsroom's environment), "
        f"test it with `pytest {made.folder}`; `newsroom plugins` then lists it."
    )


COMMANDS = [init, check, schema, plugins, install, uninstall, plugin_group]
