"""UI strings ("Source", "Unsubscribe" ...) for templates, from the theme's ``strings.toml``.

This is the one place a template's words are looked up, so a gettext catalog can replace
it later without touching the templates: they only ever see the ``t`` variable
(``t.source``, ``t("item_count", n=3)``).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from newsroom.errors import ConfigError
from newsroom.themes import Theme

STRINGS_FILE = "strings.toml"
FALLBACK_LANGUAGE = "en"


class Strings:
    """The UI strings of one language, with fallbacks; missing keys show as the key."""

    __slots__ = ("language", "_tables")

    def __init__(self, language: str, tables: list[dict[str, str]]) -> None:
        self.language = language
        self._tables = tables
        """Nearest first: the exact language, its base language, English."""

    def get(self, key: str, default: str | None = None) -> str:
        for table in self._tables:
            if key in table:
                return table[key]
        return key if default is None else default

    def __getitem__(self, key: str) -> str:
        return self.get(key)

    def __getattr__(self, key: str) -> str:
        if key.startswith("__"):  # keep copy/pickle protocols working
            raise AttributeError(key)
        return self.get(key)

    def __call__(self, key: str, **values: Any) -> str:
        """The string for ``key`` with ``{name}`` fields filled in."""
        text = self.get(key)
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return text  # a translation with a typo must not stop the render

    def __repr__(self) -> str:
        return f"<Strings {self.language!r}>"


def _language_keys(language: str) -> list[str]:
    """``ko-KR`` → ``["ko_KR", "ko", "en"]`` (tables are looked up in this order)."""
    code = language.replace("-", "_")
    keys = [code, code.split("_")[0], FALLBACK_LANGUAGE]
    return list(dict.fromkeys(keys))


@lru_cache(maxsize=32)
def _read(path: Path, mtime_ns: int) -> dict[str, dict[str, str]]:
    # Keyed on the modification time so a long-running preview sees edits.
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read UI strings: {exc}") from None
    return {
        lang: {str(k): str(v) for k, v in table.items()}
        for lang, table in data.items()
        if isinstance(table, dict)
    }


def load_strings(theme: Theme, language: str) -> Strings:
    """The strings for ``language`` from ``strings.toml`` in the theme chain (child wins)."""
    merged: dict[str, dict[str, str]] = {}
    for t in reversed(theme.chain):  # parents first, so a child overrides single keys
        path = t.path / STRINGS_FILE
        if path.is_file():
            for lang, table in _read(path, path.stat().st_mtime_ns).items():
                merged.setdefault(lang, {}).update(table)
    return Strings(language, [merged[k] for k in _language_keys(language) if k in merged])
