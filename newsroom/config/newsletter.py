"""Opening a newsletter: its config, with the plugins it asks for loaded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newsroom.config import Config, find_config, parse_config, read_toml
from newsroom.core.errors import ConfigError
from newsroom.core.plugins import Plugins, load_plugins


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
