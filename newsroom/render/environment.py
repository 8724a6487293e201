"""The Jinja2 environment of a theme: its loaders, ``parent:`` lookups, filters and the
gettext catalogs of the edition's language.

Template names resolve three ways:

``email/edition.mjml.j2``          the nearest theme of the chain that has the file
``briefing:email/edition.mjml.j2`` the named theme's version (its own file, or what it inherits)
``parent:email/edition.mjml.j2``   the parent's version of the template doing the extending,
                                   so a theme can extend the very file it overrides, at any depth

Autoescape is on everywhere. Sanitized HTML fields render as markup; any other string is
escaped, and ``|safe`` is the sanitizer's check, not a bypass (see :mod:`newsroom.core.sanitize`).
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from babel.dates import format_date, format_datetime, format_skeleton
from jinja2.loaders import split_template_path

from newsroom.core.sanitize import html_filter, html_to_text
from newsroom.render.jinja_cache import compiled_templates

if TYPE_CHECKING:
    from newsroom.render.themes import Theme

#: The gettext domain of theme catalogs: ``locale/<lang>/LC_MESSAGES/messages.po``.
DOMAIN = "messages"


class ThemeEnvironment(jinja2.Environment):
    """An environment that knows which theme each template came from (for ``parent:``)."""

    theme: Theme

    def join_path(self, template: str, parent: str) -> str:
        from newsroom.render.theme_files import PARENT_PREFIX

        prefix, sep, rest = template.partition(":")
        if not (sep and prefix == PARENT_PREFIX):
            return template
        owner = self.owner_of(parent)
        if owner is None or owner.parent is None:
            where = owner.name if owner else "?"
            raise jinja2.TemplateNotFound(
                f"{template} (used in {parent}: theme {where!r} has no parent theme)"
            )
        return f"{owner.parent.name}:{rest}"

    def owner_of(self, name: str) -> Theme | None:
        """The theme whose file the template ``name`` is."""
        prefix, sep, rest = name.partition(":")
        start = self.theme.find(prefix) if sep else self.theme
        if start is None:
            return None
        path = rest if sep else name
        return next((t for t in start.chain if (t.path / "templates" / path).is_file()), None)


class ThemeFilesLoader(jinja2.FileSystemLoader):
    """The ``templates/`` folders of a theme chain, nearest first; a template that is a link
    leading outside its theme's folder is refused
    (:func:`newsroom.render.theme_files.inside_theme`)."""

    def __init__(self, chain: list[Theme]) -> None:
        #: Each templates/ folder, with the theme folder its links must stay in.
        self.folders = [
            (t.path / "templates", t.path) for t in chain if (t.path / "templates").is_dir()
        ]
        super().__init__([str(d) for d, _ in self.folders])

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        from newsroom.render.theme_files import inside_theme

        pieces = split_template_path(template)  # refuses "..", as jinja2 does
        for folder, root in self.folders:
            path = folder.joinpath(*pieces)
            if path.is_file():
                inside_theme(root, path)  # checked before jinja2 reads it
                break
        return super().get_source(environment, template)


class ThemeLoader(jinja2.BaseLoader):
    """Plain names search the whole chain; ``name:`` names search from that theme down.

    Templates keep the name they were asked for (a prefix loader would compile them under
    the name without the prefix), so ``parent:`` can tell which theme's file is extending.
    """

    def __init__(self, theme: Theme) -> None:
        self.theme = theme
        self.loaders = {t.name: ThemeFilesLoader(t.chain) for t in theme.chain}

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        prefix, sep, rest = template.partition(":")
        start = self.theme.find(prefix) if sep else self.theme
        if start is None:
            raise jinja2.TemplateNotFound(template)
        try:
            return self.loaders[start.name].get_source(environment, rest if sep else template)
        except jinja2.TemplateNotFound:
            raise jinja2.TemplateNotFound(template) from None

    def list_templates(self) -> list[str]:
        return self.loaders[self.theme.name].list_templates()


def theme_environment(
    theme: Theme,
    *,
    language: str = "en",
    configure: Callable[[jinja2.Environment], None] | None = None,
    cache_dir: Path | None = None,
) -> jinja2.Environment:
    """A Jinja2 environment for ``theme`` in ``language`` (autoescape on, filters added,
    ``_``/``gettext``/``ngettext`` from the theme's catalogs)."""
    env = ThemeEnvironment(
        loader=ThemeLoader(theme),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
        bytecode_cache=compiled_templates(cache_dir),
    )
    env.theme = theme
    locale = language.replace("-", "_")
    env.install_gettext_translations(load_translations(theme, language), newstyle=True)  # type: ignore[attr-defined]
    env.filters["html"] = html_filter
    # `|safe` would let a theme print a raw string from a feed; here it only passes HTML
    # the sanitizer produced, exactly like `|html`.
    env.filters["safe"] = html_filter
    env.filters["plaintext"] = html_to_text
    env.filters["date"] = lambda value, fmt="long": format_day(value, fmt, locale)
    env.filters["datetime"] = lambda value, fmt="medium": _format_datetime(value, fmt, locale)
    env.filters["month"] = lambda value: format_month(value, locale)
    env.filters["number"] = lambda value: _format_number(value, locale)
    env.globals["theme"] = {"name": theme.name, "chain": [t.name for t in theme.chain]}
    if configure:
        configure(env)
    return env


# -- dates and numbers in the edition's language --------------------------------------------


def _as_date(value: Any) -> dt.date:
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        return value.date()
    return value  # type: ignore[no-any-return]


def format_day(value: Any, fmt: str, locale: str) -> str:
    """``value`` (a date or ISO string) as ``short``/``medium``/``long``/``full``/``iso``
    or a babel pattern."""
    if value is None:
        return ""
    return _format_day_cached(_as_date(value), fmt, locale)


@lru_cache(maxsize=4096)
def _format_day_cached(day: dt.date, fmt: str, locale: str) -> str:
    # Babel parses the locale's patterns on every call; a site repeats few dates.
    if fmt == "iso":
        return day.isoformat()
    return str(format_date(day, format=fmt, locale=locale))


@lru_cache(maxsize=1024)
def _month_cached(year: int, month: int, locale: str) -> str:
    return str(format_skeleton("yMMMM", dt.date(year, month, 1), locale=locale))


def format_month(value: Any, locale: str) -> str:
    """``2026년 2월`` / ``February 2026``."""
    day = _as_date(value)
    return _month_cached(day.year, day.month, locale)


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


# -- gettext catalogs ---------------------------------------------------------------------


def catalog_languages(language: str) -> list[str]:
    """``ko-KR`` → ``["ko", "ko_KR"]``: the catalogs to merge, the most specific last."""
    code = language.replace("-", "_")
    return list(dict.fromkeys([code.split("_")[0], code]))


def catalog_path(theme_dir: Path, code: str) -> Path:
    return theme_dir / "locale" / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=64)
def _read_catalog(path: Path, mtime_ns: int, size: int) -> gettext.GNUTranslations:
    # Keyed on the file's modification time, so a long-running preview sees edits. Catalogs
    # are read as .po (no compile step to forget); fuzzy entries are left out, as msgfmt does.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    from newsroom.core.errors import ConfigError

    try:
        with path.open("rb") as fh:
            catalog = read_po(fh, abort_invalid=True)
    except Exception as exc:  # babel's PoFileError, or a decoding error
        raise ConfigError(f"{path}: not a valid gettext catalog: {exc}") from None
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def load_translations(theme: Theme, language: str) -> gettext.NullTranslations:
    """The theme chain's catalogs for ``language``, parents first so a child's entries win.

    With no catalog (English, whose messages are the msgids) this is gettext's identity.
    """
    from newsroom.render.theme_files import inside_theme

    merged: Any = None
    for t in reversed(theme.chain):
        for code in catalog_languages(language):
            path = catalog_path(t.path, code)
            if not path.is_file():
                continue
            inside_theme(t.path, path)
            stat = path.stat()
            found = _read_catalog(path, stat.st_mtime_ns, stat.st_size)
            if merged is None:
                # A copy: merging must not change the cached catalog of a parent theme.
                merged = gettext.GNUTranslations()
                merged._catalog = dict(found._catalog)  # type: ignore[attr-defined]
                merged.plural = found.plural  # type: ignore[attr-defined]
                merged._info = dict(found.info())
            else:
                merged._catalog.update(found._catalog)  # type: ignore[attr-defined]
    return merged if merged is not None else gettext.NullTranslations()
