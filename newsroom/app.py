"""Opening a newsletter: its config, with the plugins it asks for loaded; checking one."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsroom.config import Config, find_config, parse_config, read_toml
from newsroom.errors import ConfigError
from newsroom.manager import Plugins, load_plugins


@dataclass
class Newsletter:
    """A loaded newsletter: validated config plus the plugin manager that validated it."""

    config: Config
    plugins: Plugins


def plugins_for(
    data: dict[str, Any], config_path: Path, plugins: Plugins | None = None
) -> tuple[Plugins, list[str]]:
    """The plugins the ``[plugins]`` table of ``data`` asks for, and the problems found.

    ``plugins``, when given, is the starting point (it is copied, never changed); otherwise
    every installed plugin is loaded. Disabled plugins are left out and the ``plugins_dir``
    files added.
    """
    table = data.get("plugins")
    table = table if isinstance(table, dict) else {}
    disabled = table.get("disabled", [])
    blocked = {str(d) for d in disabled} if isinstance(disabled, list) else set()
    folder = table.get("plugins_dir")
    local = config_path.parent / folder if isinstance(folder, str) and folder else None
    if plugins is None:
        plugins = load_plugins(blocked)
    elif blocked or local is not None:
        plugins = plugins.copy(exclude=blocked)
    problems: list[str] = []
    if local is not None:
        if local.is_dir():
            plugins.load_directory(local, blocked)
        else:
            problems.append(f"[plugins] plugins_dir: no folder at {local}")
    return plugins, problems


def open_newsletter(path: Path | None = None, plugins: Plugins | None = None) -> Newsletter:
    """Read ``newsroom.toml`` (or the file at ``path``), load plugins, validate everything.

    ``plugins``, when given, is used as it is unless the config disables some plugin or has
    a ``plugins_dir``; then a copy with those changes is used.
    """
    config_path = find_config(path).resolve()
    data = read_toml(config_path)
    plugins, problems = plugins_for(data, config_path, plugins)
    try:
        config = parse_config(data, config_path, plugins)
    except ConfigError as exc:
        raise ConfigError(problems + exc.problems, path=str(config_path)) from None
    if problems:
        raise ConfigError(problems, path=str(config_path))
    return Newsletter(config, plugins)


@dataclass
class CheckReport:
    """What :func:`check_newsletter` found."""

    path: Path
    problems: list[str] = field(default_factory=list)
    """Everything that stops the newsletter from building; all of them, not the first."""
    warnings: list[str] = field(default_factory=list)
    """Plugins that failed to load but are not used by this config, and plugins that use a
    deprecated part of the hook API."""
    config: Config | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def check_newsletter(path: Path | None = None, plugins: Plugins | None = None) -> CheckReport:
    """Validate a newsletter as a build would, without fetching anything.

    The config, every plugin's options, the theme and the ``plugins_dir`` files are checked;
    nothing is requested over the network and nothing is written.
    """
    from newsroom.mailconfig import subscriptions_problem
    from newsroom.themes import load_theme

    config_path = find_config(path).resolve()
    report = CheckReport(config_path)
    try:
        data = read_toml(config_path)
    except ConfigError as exc:
        report.problems.extend(exc.problems)
        return report
    loaded, report.problems = plugins_for(data, config_path, plugins)
    try:
        report.config = parse_config(data, config_path, loaded)
    except ConfigError as exc:
        report.problems.extend(exc.problems)
    if report.config is not None and report.config.email.from_:
        # It sends: every message needs links that work (send refuses them too).
        problem = subscriptions_problem(report.config.subscriptions_url)
        if problem:
            report.problems.append(problem)
    newsletter = data.get("newsletter")
    theme = newsletter.get("theme", "default") if isinstance(newsletter, dict) else None
    settings = data.get("theme", {})
    if isinstance(theme, str):
        try:
            # [theme] as the render will resolve it: no unknown key, no value of another type.
            load_theme(theme, root=config_path.parent).resolve_settings(
                settings if isinstance(settings, dict) else {}
            )
        except ConfigError as exc:
            report.problems.extend(exc.problems)
    loaded.all_registries()
    mentioned = "\n".join(report.problems)
    report.warnings = [
        failure.message() for failure in loaded.failures if failure.message() not in mentioned
    ] + [deprecation.message() for deprecation in loaded.deprecations]
    return report
