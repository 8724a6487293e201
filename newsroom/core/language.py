"""Is a text in the newsletter's language? A check by writing system.

Many languages have a script of their own: Korean is written in Hangul, Japanese in kana
(with kanji), Russian in Cyrillic, Greek, Thai, Hebrew, Arabic ... For those, whether a
title or a summary is in the newsletter's language is a question of script, and the
answer holds up against what a newsletter meets: "Unified models that both understand
and generate images ..." in a Korean newsletter is caught, while "오픈AI가 응답(Responses)
API에 스킬을 추가했다" (Korean naming English products) is accepted.

The measure is the share of a text's words (runs of letters) that contain a letter of the
language's script: a word such as "API에" or "오픈AI가" counts, since Korean attaches its
particles to foreign names. A text is in the language when at least :data:`MIN_SHARE` of
its words are. A text of no words (a number, a symbol, an empty string) is in no language
and is not judged.

Languages written in the Latin alphabet (English, German, French ...) cannot be told apart
by script; for them only a text in another script is caught (a Korean summary in an English
newsletter), and Latin text is taken as it is. The Unicode character database that decides
a letter's script is the standard library's (:mod:`unicodedata`).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: Words of the language's script a text needs, as a share of its words.
MIN_SHARE = 0.3

#: Language code → the prefixes of the Unicode character names of its script's letters.
SCRIPTS: dict[str, tuple[str, ...]] = {
    "ko": ("HANGUL",),
    "ja": ("HIRAGANA", "KATAKANA", "CJK UNIFIED IDEOGRAPH"),
    "zh": ("CJK UNIFIED IDEOGRAPH",),
    "ru": ("CYRILLIC",),
    "uk": ("CYRILLIC",),
    "bg": ("CYRILLIC",),
    "sr": ("CYRILLIC", "LATIN"),
    "el": ("GREEK",),
    "th": ("THAI",),
    "he": ("HEBREW",),
    "ar": ("ARABIC",),
    "fa": ("ARABIC",),
    "hi": ("DEVANAGARI",),
    "bn": ("BENGALI",),
    "ka": ("GEORGIAN",),
    "hy": ("ARMENIAN",),
}
LATIN = ("LATIN",)

_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=4096)
def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if not name.startswith("CJK") else "CJK UNIFIED IDEOGRAPH"


def _prefixes(language: str) -> tuple[str, ...]:
    return SCRIPTS.get(language.split("-")[0].split("_")[0].lower(), LATIN)


def language_share(text: str, language: str) -> float | None:
    """The share of the words of ``text`` written in the script of ``language`` (a code
    such as ``ko`` or ``en-GB``); ``None`` when ``text`` has no words."""
    prefixes = _prefixes(language)
    words = _WORD.findall(text)
    if not words:
        return None
    native = sum(1 for word in words if any(_script(c).startswith(prefixes) for c in word))
    return native / len(words)


def in_language(text: str, language: str) -> bool | None:
    """Whether ``text`` reads as written in ``language``; ``None`` when it has no words to
    tell by. Latin-script languages accept any Latin text (see the module's notes)."""
    share = language_share(text, language)
    if share is None:
        return None
    return share >= MIN_SHARE


def language_name(language: str) -> str:
    """What messages call ``language``: its English name where babel knows it, else the
    code."""
    try:
        from babel import Locale

        return str(Locale.parse(language.replace("-", "_")).get_display_name("en"))
    except Exception:  # noqa: BLE001 - an unknown code is named by itself
        return language
