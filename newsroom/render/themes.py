"""Themes: folders of Jinja2 templates, found three ways and resolved with their parents.

A theme is a package (or a plain folder) holding::

    theme.toml        name, extends = "<parent>", description, [settings] with defaults
    templates/        email/*.mjml.j2, text/*.txt.j2, web/*.html.j2, markdown/*.md.j2
    static/           copied into the web edition
    locale/           gettext catalogs: <lang>/LC_MESSAGES/messages.po

Where themes come from:

- **first-party**: ``default`` and ``briefing`` in newsroom's own ``themes/`` folder, declared
  under the ``newsroom.themes`` entry points of the ``newsroom`` distribution;
- **packages**: any installed distribution declaring a ``newsroom.themes`` entry point;
- **local folders**: ``theme = "./my-theme"`` in ``[newsletter]`` (relative to the config).

Templates are looked up in the theme, then its parent, recursively, ending with ``default``
(the complete theme every other falls back to). ``{% extends "parent:web/base.html.j2" %}``
reaches the parent's version of a file, and ``"default:..."`` a named theme's, so an
override can extend what it replaces (see :mod:`newsroom.render.environment`).

A theme's files may be symbolic links to other files of the same theme folder; a link that
leads outside it (to a key, to ``/etc/passwd``) is refused wherever a theme file is read:
theme.toml, templates, catalogs and static files (:func:`inside_theme`, :func:`theme_files`).
"""

from __future__ import annotations

import difflib
import logging
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsroom.core.errors import ConfigError
from newsroom.core.plugins import OWN_DISTRIBUTION, THEME_GROUP
from newsroom.render.theme_files import PARENT_PREFIX as PARENT_PREFIX
from newsroom.render.theme_files import inside_theme as inside_theme
from newsroom.render.theme_files import theme_files as theme_files

if TYPE_CHECKING:
    import jinja2

    from newsroom.config import Config

FALLBACK_THEME = "default"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ThemeInfo:
    """Where an installed theme comes from."""

    name: str
    path: Path
    origin: str
    """``first-party``, ``package`` or ``local``."""
    package: str
    version: str = ""


@dataclass
class Theme:
    """A theme and its parents, ready to render."""

    name: str
    path: Path
    parent: Theme | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    """Defaults from theme.toml's [settings], parents' first."""
    description: str = ""
    package: str = "?"
    origin: str = "package"

    @property
    def chain(self) -> list[Theme]:
        """This theme, then its parents, nearest first."""
        out: list[Theme] = []
        theme: Theme | None = self
        while theme is not None:
            out.append(theme)
            theme = theme.parent
        return out

    @property
    def template_dirs(self) -> list[Path]:
        return [t.path / "templates" for t in self.chain if (t.path / "templates").is_dir()]

    @property
    def static_dirs(self) -> list[Path]:
        """Static folders, parents first, so a child's file overwrites its parent's."""
        return [t.path / "static" for t in reversed(self.chain) if (t.path / "static").is_dir()]

    def find(self, name: str) -> Theme | None:
        """The theme called ``name`` in this chain."""
        return next((t for t in self.chain if t.name == name), None)

    def resolve_settings(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """The settings after ``[theme]`` in newsroom.toml, checked against the declared ones.

        A key no theme of the chain declares is refused (a typo would otherwise change
        nothing, silently), and so is a value of another type than the default's.
        """
        problems: list[str] = []
        merged = dict(self.settings)
        for key, value in overrides.items():
            if key not in self.settings:
                close = difflib.get_close_matches(key, list(self.settings), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                problems.append(
                    f"{key}: theme {self.name!r} has no such setting{hint}; its settings: "
                    f"{', '.join(sorted(self.settings))}"
                )
                continue
            default = self.settings[key]
            if not _same_type(default, value):
                problems.append(
                    f"{key}: expected {type(default).__name__} like the default "
                    f"{default!r}, got {value!r}"
                )
                continue
            merged[key] = value
        if problems:
            raise ConfigError("[theme] " + "; ".join(problems))
        return merged

    def environment(
        self,
        *,
        language: str = "en",
        configure: Callable[[jinja2.Environment], None] | None = None,
        cache_dir: Path | None = None,
    ) -> jinja2.Environment:
        """A Jinja2 environment for this theme (see :mod:`newsroom.render.environment`)."""
        from newsroom.render.environment import theme_environment

        return theme_environment(self, language=language, configure=configure, cache_dir=cache_dir)


def _same_type(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, int | float) and isinstance(value, int | float):
        return isinstance(default, float) or isinstance(value, int)
    return isinstance(value, type(default))


def available_themes() -> dict[str, ThemeInfo]:
    """Themes from the ``newsroom.themes`` entry points, by name.

    A package may not take the name of a first-party theme (the first-party one is kept and
    the package's ignored, with a warning); between two packages, the later one wins.
    """
    found: dict[str, ThemeInfo] = {}
    for ep in entry_points(group=THEME_GROUP):
        spec = find_spec(ep.value)
        if spec is None or not spec.submodule_search_locations:
            log.warning("theme %r: package %r is not importable", ep.name, ep.value)
            continue
        dist = ep.dist.metadata["Name"] if ep.dist else "?"
        version = ep.dist.version if ep.dist else ""
        origin = "first-party" if dist == OWN_DISTRIBUTION else "package"
        info = ThemeInfo(
            ep.name, Path(next(iter(spec.submodule_search_locations))), origin, dist, version
        )
        earlier = found.get(ep.name)
        if earlier is not None and "first-party" in (earlier.origin, origin):
            squatter = info if earlier.origin == "first-party" else earlier
            log.warning(
                "theme %r from %s ignored: the name belongs to a first-party theme",
                ep.name,
                squatter.package,
            )
            if earlier.origin == "first-party":
                continue
        elif earlier is not None:
            log.warning("theme %r: %s replaces %s", ep.name, dist, earlier.package)
        found[ep.name] = info
    return found


def installed_themes() -> dict[str, tuple[Path, str]]:
    """Installed themes: name → (folder, distribution)."""
    return {name: (info.path, info.package) for name, info in available_themes().items()}


def read_theme_toml(path: Path) -> dict[str, Any]:
    """``theme.toml`` of the theme folder ``path`` ({} when there is none)."""
    toml = path / "theme.toml"
    if not toml.exists():
        return {}
    inside_theme(path, toml)
    try:
        data = tomllib.loads(toml.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{toml}: not valid TOML: {exc}") from None
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise ConfigError(f"{toml}: [settings] must be a table")
    for key in ("name", "extends", "description"):
        if key in data and not isinstance(data[key], str):
            raise ConfigError(f"{toml}: {key} must be a string")
    return data


def is_path(name: str) -> bool:
    """Whether a theme reference names a folder rather than an installed theme."""
    return "/" in name or "\\" in name or name.startswith((".", "~"))


def load_theme(
    name_or_path: str, *, root: Path | None = None, _seen: tuple[str, ...] = ()
) -> Theme:
    """The installed theme called ``name_or_path``, or the theme folder at that path
    (relative to ``root``), with its parents resolved."""
    installed = available_themes()
    if not is_path(name_or_path):
        if name_or_path not in installed:
            listing = ", ".join(f"{n} ({i.origin})" for n, i in sorted(installed.items()))
            via = f" (extended by {_seen[-1]!r})" if _seen else ""
            raise ConfigError(
                f"[newsletter] theme: unknown theme {name_or_path!r}{via}; installed themes: "
                f"{listing or 'none'} (or give a path to a theme folder, like ./my-theme)"
            )
        info = installed[name_or_path]
        path, name, package, origin = info.path, name_or_path, info.package, info.origin
    else:
        candidate = Path(name_or_path).expanduser()
        if root is not None and not candidate.is_absolute():
            candidate = root / candidate
        if not candidate.is_dir():
            raise ConfigError(f"[newsletter] theme: no theme folder at {candidate}")
        path, package, origin = candidate.resolve(), "(local folder)", "local"
        name = path.name
    meta = read_theme_toml(path)
    name = str(meta.get("name", name))
    if name == PARENT_PREFIX:
        raise ConfigError(f"{path}: a theme cannot be called {PARENT_PREFIX!r}")
    if name in _seen:
        raise ConfigError(f"theme {name!r} extends itself through {' → '.join((*_seen, name))}")
    parent_name = meta.get("extends")
    if parent_name is None and name != FALLBACK_THEME:
        parent_name = FALLBACK_THEME
    parent = None
    if parent_name:
        # A local theme may extend another folder, named relative to its own.
        parent = load_theme(str(parent_name), root=path, _seen=(*_seen, name))
    settings = dict(parent.settings) if parent else {}
    settings.update(meta.get("settings", {}))
    return Theme(
        name=name,
        path=path,
        parent=parent,
        settings=settings,
        description=str(meta.get("description", "")),
        package=package,
        origin=origin,
    )


def check_theme(config: Config) -> None:
    """Load the newsletter's theme and check its ``[theme]`` settings, as the render will;
    ConfigError naming the problem. Commands call it before a build fetches anything: a
    typo there would otherwise fail the render, after the fetch and the summaries."""
    load_theme(config.newsletter.theme, root=config.root).resolve_settings(config.theme)
