"""Looking for words in an item's title and text, in Korean and in English.

A word matches where it *starts* a word of a spaced script ("model" in "models" and
"Model-based", not in "remodel"; "API" in "APIs", not in "RAPID"), and anywhere in Korean,
Chinese or Japanese text, where particles are written onto the word ("모델" in "모델을",
"에이전트" in "AI에이전트가"). Case and full-width forms never matter ("ＡＩ" is "AI").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from newsroom import Item
from newsroom.core.sanitize import clean_text

# Scripts written without spaces between words, or with particles glued to words.
_UNSPACED = (
    "\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uf900-\ufaff\u0e00-\u0e7f"
)
# A word character of a spaced script (Latin, Greek, Cyrillic, digits ...).
_SPACED_WORD = rf"[^\W{_UNSPACED}]"


def fold(text: str) -> str:
    """NFKC and casefold: full-width "ＡＩ" and "ai" are "ai"."""
    return unicodedata.normalize("NFKC", text).casefold()


class Words:
    """A compiled list of words; :meth:`found` says whether a text has any of them."""

    __slots__ = ("_pattern",)

    def __init__(self, words: Iterable[str], *, whole_words: bool = False) -> None:
        folded = sorted({fold(w) for w in words if w.strip()}, key=len, reverse=True)
        if not folded:
            self._pattern: re.Pattern[str] | None = None
            return
        alternatives = "|".join(re.escape(w) for w in folded)
        end = rf"(?!{_SPACED_WORD})" if whole_words else ""
        # A spaced-script letter before the word means it is inside another word.
        self._pattern = re.compile(rf"(?<!{_SPACED_WORD})(?:{alternatives}){end}")

    def __bool__(self) -> bool:
        return self._pattern is not None

    def found(self, text: str) -> bool:
        return self._pattern is not None and self._pattern.search(text) is not None


@lru_cache(maxsize=4096)
def _searchable(title: str, original_title: str, summary: str) -> str:
    # One string per item, folded once however many sections look at it; "\n" keeps a word
    # from matching across the end of one field and the start of the next.
    return fold("\n".join((title, original_title, clean_text(summary))))


def item_text(item: Item, fields: Iterable[str]) -> str:
    """The folded plain text of the item's ``fields`` (``title``, ``summary``, ``tags``)."""
    wanted = set(fields)
    text = _searchable(
        item.title if "title" in wanted else "",
        (item.original_title or "") if "title" in wanted else "",
        item.summary if "summary" in wanted else "",
    )
    if "tags" in wanted and item.tags:
        text += "\n" + fold("\n".join(item.tags))
    return text
