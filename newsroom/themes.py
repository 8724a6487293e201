"""Themes: folders of Jinja2 templates found through the ``newsroom.themes`` entry points.

A theme is a package (or a plain folder) holding::

    theme.toml        name, extends = "<parent>", [settings] with defaults
    templates/        email/*.mjml.j2, text/*.txt.j2, web/*.html.j2, markdown/*.md.j2
    static/           copied into the web edition

Templates are looked up in the theme, then its parent, recursively, ending with ``default``
(the complete theme every other falls back to). ``{% extends "default:web/base.html.j2" %}``
reaches a named theme's own version of a file, so an override can extend what it replaces.

Autoescape is on everywhere. Sanitized HTML fields render as markup; any other string is
escaped, and ``|safe`` is the sanitizer's check, not a bypass (see :mod:`newsroom.sanitize`).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import jinja2
from babel.dates import format_date, format_datetime

from newsroom.errors import ConfigError
from newsroom.jinja_cache import compiled_templates
from newsroom.manager import THEME_GROUP
from newsroom.sanitize import html_filter, html_to_text

FALLBACK_THEME = "default"


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
        return [t.path / "templates" for t in self.chain]

    @property
    def static_dirs(self) -> list[Path]:
        """Static folders, parents first, so a child's file overwrites its parent's."""
        return [t.path / "static" for t in reversed(self.chain) if (t.path / "static").is_dir()]

    def environment(
        self,
        *,
        language: str = "en",
        configure: Callable[[jinja2.Environment], None] | None = None,
        cache_dir: Path | None = None,
    ) -> jinja2.Environment:
        """A Jinja2 environment for this theme (autoescape on, newsroom's filters added)."""
        loader = jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader([str(d) for d in self.template_dirs]),
                jinja2.PrefixLoader(
                    {
                        t.name: jinja2.FileSystemLoader(str(t.path / "templates"))
                        for t in self.chain
                    },
                    delimiter=":",
                ),
            ]
        )
        env = jinja2.Environment(
            loader=loader,
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            bytecode_cache=compiled_templates(cache_dir),
        )
        locale = language.replace("-", "_")
        env.filters["html"] = html_filter
        # `|safe` would let a theme print a raw string from a feed; here it only passes HTML
        # the sanitizer produced, exactly like `|html`.
        env.filters["safe"] = html_filter
        env.filters["plaintext"] = html_to_text
        env.filters["date"] = lambda value, fmt="long": _format_date(value, fmt, locale)
        env.filters["datetime"] = lambda value, fmt="medium": _format_datetime(value, fmt, locale)
        env.filters["number"] = lambda value: _format_number(value, locale)
        env.globals["theme"] = {"name": self.name}
        if configure:
            configure(env)
        return env


def _format_date(value: Any, fmt: str, locale: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if fmt == "iso":
        return str(value.isoformat())
    return str(format_date(value, format=fmt, locale=locale))


def _format_datetime(value: Any, fmt: str, locale: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if fmt == "iso":
        return str(value.isoformat())
    if fmt == "rfc3339":
        return str(value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return str(format_datetime(value, format=fmt, locale=locale))


def _format_number(value: Any, locale: str) -> str:
    from babel.numbers import format_decimal

    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(format_decimal(value, locale=locale))


def installed_themes() -> dict[str, tuple[Path, str]]:
    """Themes from the ``newsroom.themes`` entry points: name → (folder, distribution)."""
    found: dict[str, tuple[Path, str]] = {}
    for ep in entry_points(group=THEME_GROUP):
        spec = find_spec(ep.value)
        if spec is None or not spec.submodule_search_locations:
            continue
        package = ep.dist.metadata["Name"] if ep.dist else "?"
        found[ep.name] = (Path(next(iter(spec.submodule_search_locations))), package)
    return found


def _read_theme_toml(path: Path) -> dict[str, Any]:
    toml = path / "theme.toml"
    if not toml.exists():
        return {}
    try:
        return tomllib.loads(toml.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{toml}: not valid TOML: {exc}") from None


def load_theme(
    name_or_path: str, *, root: Path | None = None, _seen: tuple[str, ...] = ()
) -> Theme:
    """The theme called ``name_or_path`` (installed), or the theme folder at that path
    (relative to ``root``), with its parents resolved."""
    installed = installed_themes()
    candidate = (root / name_or_path) if root else Path(name_or_path)
    if name_or_path in installed:
        path, package = installed[name_or_path]
        name = name_or_path
    elif ("/" in name_or_path or name_or_path.startswith(".")) and candidate.is_dir():
        path, package = candidate.resolve(), "(local folder)"
        name = path.name
    else:
        raise ConfigError(
            f"[newsletter] theme: unknown theme {name_or_path!r}; installed themes: "
            f"{', '.join(sorted(installed)) or 'none'} (or give a path to a theme folder)"
        )
    meta = _read_theme_toml(path)
    name = str(meta.get("name", name))
    if name in _seen:
        raise ConfigError(f"theme {name!r} extends itself through {' → '.join(_seen)}")
    parent_name = meta.get("extends")
    if parent_name is None and name != FALLBACK_THEME:
        parent_name = FALLBACK_THEME
    parent = load_theme(str(parent_name), root=root, _seen=(*_seen, name)) if parent_name else None
    settings = dict(parent.settings) if parent else {}
    settings.update(meta.get("settings", {}))
    return Theme(
        name=name,
        path=path,
        parent=parent,
        settings=settings,
        description=str(meta.get("description", "")),
        package=package,
    )
