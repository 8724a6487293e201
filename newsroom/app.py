"""Opening a newsletter: its config, with the plugins it asks for loaded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newsroom.config import Config, find_config, parse_config, read_toml
from newsroom.manager import Plugins, load_plugins


@dataclass
class Newsletter:
    """A loaded newsletter: validated config plus the plugin manager that validated it."""

    config: Config
    plugins: Plugins


def open_newsletter(path: Path | None = None, plugins: Plugins | None = None) -> Newsletter:
    """Read ``newsroom.toml`` (or the file at ``path``), load plugins, validate everything.

    ``plugins``, when given, is used as it is unless the config disables some plugin.
    """
    config_path = find_config(path).resolve()
    data = read_toml(config_path)
    disabled = (
        data.get("plugins", {}).get("disabled", []) if isinstance(data.get("plugins"), dict) else []
    )
    if plugins is None or disabled:
        plugins = load_plugins(
            blocked={str(d) for d in disabled} if isinstance(disabled, list) else set()
        )
    return Newsletter(parse_config(data, config_path, plugins), plugins)
