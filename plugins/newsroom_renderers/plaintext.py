"""Plain text helpers for the text part of the email: width-aware wrapping and rules.

Korean and other wide characters take two columns in a terminal or a monospace mail
client, so widths are counted in columns, not code points. Lines break only at spaces
(Korean separates words with spaces), so no word, URL or syllable is ever split.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


@lru_cache(maxsize=8192)
def char_width(char: str) -> int:
    """Columns ``char`` takes in a monospace font: 2 for wide (Hangul, CJK, emoji), 0 for
    combining marks, else 1."""
    if unicodedata.combining(char) or char in "\u200b\u200d\ufe0f":
        return 0
    return 2 if unicodedata.east_asian_width(char) in "WF" else 1


def display_width(text: str) -> int:
    """Columns ``text`` takes in a monospace font."""
    if text.isascii():
        return len(text)
    width = sum(map(char_width, text))
    if "\ufe0f" in text:
        # Emoji presentation (🗣️ = U+1F5E3 U+FE0F) turns a narrow symbol wide.
        width += sum(1 for m in _EMOJI_PRESENTATION.finditer(text) if char_width(m[1]) == 1)
    return width


_EMOJI_PRESENTATION = re.compile("(.)\ufe0f")


def wrap(text: str, width: int = 72, indent: str = "", first: str | None = None) -> str:
    """Wrap each line of ``text`` to ``width`` columns.

    ``first`` prefixes the first output line (default: ``indent``), ``indent`` the others.
    Blank lines are kept (paragraphs); a word longer than the width gets a line of its own.
    """
    # NFC first: decomposed Hangul (from some macOS sources) would count as several jamo.
    text = unicodedata.normalize("NFC", str(text))
    lead = indent if first is None else first
    out: list[str] = []
    for paragraph in text.splitlines():
        words = paragraph.split()
        if not words:
            out.append("")
            continue
        line = ""
        used = 0
        for word in words:
            w = display_width(word)
            prefix = lead if not out else indent
            if line and display_width(prefix) + used + 1 + w > width:
                out.append(prefix + line)
                line, used = word, w
            elif line:
                line, used = f"{line} {word}", used + 1 + w
            else:
                line, used = word, w
        out.append((lead if not out else indent) + line)
    # Blank lines carry no indent (no trailing spaces in the message).
    return "\n".join(line if line.strip() else "" for line in out)


def rule(text: str, char: str = "=") -> str:
    """A line of ``char`` as wide as ``text`` (a Markdown-style heading underline)."""
    return char * max(display_width(str(text)), 3)
