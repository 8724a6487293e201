"""The ``keywords`` filter: keep items that mention a word, drop those that mention another."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Literal

from pydantic import Field, field_validator

from newsroom import Filter, FilterContext, Item, Options
from newsroom.core.sanitize import clean_text

SearchField = Literal["title", "summary", "tags", "authors", "publisher", "source", "url"]
DEFAULT_FIELDS: tuple[SearchField, ...] = ("title", "summary", "tags")

# Scripts written without spaces between words, or with particles glued to words (Korean
# "삼성전자는", "AI가"). A letter of these next to a keyword is no word boundary violation.
_UNSPACED = (
    "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uf900-\ufaff\u0e00-\u0e7f"
)
# A word character of a spaced script (Latin, Greek, Cyrillic, digits ...).
_SPACED_WORD = rf"[^\W{_UNSPACED}]"


def _fold(text: str, case_sensitive: bool) -> str:
    # NFKC so full-width "ＡＩ" (common in Korean and Japanese text) matches "AI".
    text = unicodedata.normalize("NFKC", text)
    return text if case_sensitive else text.casefold()


class Keywords(Filter):
    """Keep items matching any ``include`` keyword (all, when there are none) and no
    ``exclude`` keyword. Exclude wins."""

    name = "keywords"
    description = "Keep or drop items by words in their title, summary or tags."

    class Options(Options):
        include: list[str] = Field(default_factory=list)
        """Keep only items that mention one of these (every item, when empty)."""
        exclude: list[str] = Field(default_factory=list)
        """Drop items that mention one of these, even when they match ``include``."""
        fields: list[SearchField] = Field(default_factory=lambda: list(DEFAULT_FIELDS))
        """Where to look; the summary is searched as plain text, without its markup."""
        case_sensitive: bool = False
        """Match upper and lower case exactly. Full-width letters ("ＡＩ") always match
        their usual forms."""
        whole_words: bool = False
        """Match "AI" but not "OpenAI" or "mail". Applies only against letters of scripts
        written with spaces: Korean and Chinese keywords still match inside words
        ("삼성" in "삼성전자는"), and "AI" still matches in "AI가"."""

        @field_validator("include", "exclude", mode="before")
        @classmethod
        def _listify(cls, value: str | list[str] | None) -> list[str]:
            if value is None:
                return []
            return [value] if isinstance(value, str) else list(value)

        @field_validator("include", "exclude")
        @classmethod
        def _no_blanks(cls, value: list[str]) -> list[str]:
            words = [w.strip() for w in value]
            if any(not w for w in words):
                raise ValueError("keywords must not be empty")
            return words

        @field_validator("fields")
        @classmethod
        def _some_fields(cls, value: list[str]) -> list[str]:
            if not value:
                raise ValueError("name at least one field to search")
            return value

    options: Options  # the validated options of this instance, typed for readers and mypy

    def apply(self, items: list[Item], ctx: FilterContext) -> list[Item] | None:
        opts = self.options
        if not opts.include and not opts.exclude:
            return None
        included = self._matcher(opts.include)
        excluded = self._matcher(opts.exclude)
        kept = []
        for item in items:
            texts = [_fold(t, opts.case_sensitive) for t in self._texts(item)]
            if excluded(texts):
                continue
            if not opts.include or included(texts):
                kept.append(item)
        return kept

    def _texts(self, item: Item) -> list[str]:
        """The plain text of the searched fields, one string per value so a keyword never
        matches across two tags."""
        texts: list[str] = []
        for name in self.options.fields:
            if name == "summary":
                texts.append(clean_text(item.summary))
            elif name in ("tags", "authors"):
                texts.extend(getattr(item, name))
            else:
                texts.append(getattr(item, name) or "")
        return texts

    def _matcher(self, words: list[str]) -> Callable[[list[str]], bool]:
        if not words:
            return lambda texts: False
        folded = [_fold(w, self.options.case_sensitive) for w in words]
        alternatives = "|".join(re.escape(w) for w in folded)
        if self.options.whole_words:
            pattern = re.compile(rf"(?<!{_SPACED_WORD})(?:{alternatives})(?!{_SPACED_WORD})")
        else:
            pattern = re.compile(alternatives)
        return lambda texts: any(pattern.search(t) for t in texts)
