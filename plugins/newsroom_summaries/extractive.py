"""Shortening an item's own HTML to its first sentences, without breaking its markup.

:func:`summarize` reads the HTML into text runs, inline tags and paragraph breaks, finds the
sentence ends in the text (:mod:`.sentences`), keeps the first ``sentences`` of them within
``max_chars`` characters, and writes the kept part back out with its inline markup (links,
emphasis, code) and every tag it opened closed. Block structure (paragraphs, lists, tables)
becomes sentence breaks in one run of text; images, scripts and styles are left out.

When even the first sentence is longer than ``max_chars``, it is cut at the last space
before the limit (between two characters in Chinese or Japanese, which have no spaces, but
never inside a character sequence such as an emoji or a letter with its accents) and ends
with "…".
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser

from .boilerplate import strip_boilerplate
from .sentences import sentence_ends

#: Inline tags kept in a summary, with the attributes kept on them.
INLINE = {
    "a": ("href", "title"),
    "abbr": ("title",),
    "b": (),
    "strong": (),
    "i": (),
    "em": (),
    "code": (),
    "kbd": (),
    "mark": (),
    "q": (),
    "s": (),
    "del": (),
    "small": (),
    "sub": (),
    "sup": (),
    "u": (),
}
#: Tags whose content is never text a reader should see.
SKIPPED = frozenset({"script", "style", "noscript", "template", "svg", "math", "head", "title"})
#: Tags that only ever break the text: everything else that is not inline.
VOID = frozenset({"br", "hr", "img", "wbr", "input", "source", "track", "meta", "link"})
ELLIPSIS = "…"
#: With a length limit, markup past this many times it (plus some) is not read.
MAX_READ = 40
_PARAGRAPH = re.compile(r"\n[ \t\r]*\n\s*")


@dataclass(frozen=True)
class _Open:
    name: str
    attrs: str


@dataclass(frozen=True)
class _Close:
    name: str


@dataclass(frozen=True)
class _Char:
    """A character of the text, or the one space or line break that separates two runs of
    text, at its offset in the plain text."""

    char: str
    index: int


_Piece = str | _Open | _Close | None
"""What the reader sees: text, an inline tag opening or closing, a block boundary (None)."""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[_Piece] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping += 1
        elif self.skipping:
            return
        elif tag in INLINE:
            kept = "".join(
                f' {name}="{html.escape(value or "", quote=True)}"'
                for name, value in attrs
                if name in INLINE[tag] and value
            )
            self.pieces.append(_Open(tag, kept))
        else:
            self.pieces.append(None)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.skipping and tag not in INLINE:
            self.pieces.append(None)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skipping = max(self.skipping - 1, 0)
        elif self.skipping:
            return
        elif tag in INLINE:
            self.pieces.append(_Close(tag))
        elif tag not in VOID:
            self.pieces.append(None)

    def handle_data(self, data: str) -> None:
        if not self.skipping and data:
            self.pieces.append(data)


def _tokens(markup: str) -> list[_Open | _Close | _Char]:
    """``markup`` as tags and characters. Whitespace is folded: one space between words,
    one line break where blocks meet, none before the first or after the last character."""
    reader = _Reader()
    reader.feed(markup.replace("\x00", ""))  # NUL marks paragraph breaks below
    reader.close()
    tokens: list[_Open | _Close | _Char] = []
    length = 0
    separator = ""  # the space or break owed before the next character
    for piece in reader.pieces:
        if isinstance(piece, (_Open, _Close)):
            tokens.append(piece)
        elif piece is None:
            if length:
                separator = "\n"
        else:
            # A blank line in text is a paragraph break, as plain-text summaries write it.
            for char in _PARAGRAPH.sub("\x00", piece):
                if char == "\x00":
                    if length:
                        separator = "\n"
                    continue
                if char.isspace():
                    if length and separator != "\n":
                        separator = " "
                    continue
                if separator:
                    tokens.append(_Char(separator, length))
                    length += 1
                    separator = ""
                tokens.append(_Char(char, length))
                length += 1
    return tokens


def _plain(tokens: list[_Open | _Close | _Char]) -> str:
    return "".join(t.char for t in tokens if isinstance(t, _Char))


def _safe_cut(text: str, limit: int) -> int:
    """Where to cut ``text`` at most ``limit`` characters in: after a space when there is one
    in the second half, else between two characters that do not belong together."""
    if len(text) <= limit:
        return len(text)
    space = text.rfind(" ", 0, limit + 1)
    if space >= limit // 2:
        return space
    cut = limit
    while cut > 0 and _joined(text, cut):
        cut -= 1
    return cut


def _joined(text: str, position: int) -> bool:
    """True when the characters on either side of ``position`` are one grapheme."""
    after, before = text[position], text[position - 1]
    return (
        unicodedata.combining(after) > 0
        or unicodedata.category(after) in ("Mn", "Me", "Mc")
        or after == "\u200d"
        or before == "\u200d"
        or "\ufe00" <= after <= "\ufe0f"
        or "\U0001f3fb" <= after <= "\U0001f3ff"  # skin tones
    )


def _keep(plain: str, sentences: int, max_chars: int) -> tuple[int, bool]:
    """How many characters of ``plain`` to keep, and whether the cut is mid-sentence."""
    ends = sentence_ends(plain)
    if sentences:
        ends = ends[:sentences]
    if not ends:
        return 0, False
    if not max_chars:
        return ends[-1], False
    within = [e for e in ends if len(plain[:e].replace("\n", "")) <= max_chars]
    if within:
        return within[-1], False
    first = plain[: ends[0]]
    cut = _safe_cut(first, max_chars)
    return cut, cut < len(first.rstrip())


def _write(tokens: list[_Open | _Close | _Char], keep: int) -> str:
    """The HTML of the first ``keep`` characters of the text, with the inline tags around
    them, every one closed."""
    out: list[str] = []
    open_tags: list[_Open] = []
    pending: list[_Open] = []  # opened with no text yet: written only if text follows
    for token in tokens:
        if isinstance(token, _Open):
            pending.append(token)
        elif isinstance(token, _Close):
            for stack in (pending, open_tags):
                found = [n for n, tag in enumerate(stack) if tag.name == token.name]
                if found:
                    if stack is open_tags:
                        out.extend(f"</{tag.name}>" for tag in reversed(open_tags[found[-1] :]))
                    del stack[found[-1] :]
                    break
        elif token.index >= keep:
            break
        elif token.char in " \n":
            out.append(" ")
        else:
            out.extend(f"<{tag.name}{tag.attrs}>" for tag in pending)
            open_tags.extend(pending)
            pending.clear()
            out.append(html.escape(token.char, quote=False))
    out.extend(f"</{tag.name}>" for tag in reversed(open_tags))
    return "".join(out)


def summarize(markup: str, *, sentences: int = 2, max_chars: int = 280) -> str:
    """The first ``sentences`` sentences of ``markup`` within ``max_chars`` characters, as
    HTML (0 lifts either limit). Empty when there is no text."""
    if not markup or not markup.strip():
        return ""
    if max_chars and len(markup) > MAX_READ * max_chars + 4000:
        # A few sentences never need the whole of a huge body (some feeds carry whole
        # articles): read the start only. A tag cut at the end is simply not read.
        markup = markup[: MAX_READ * max_chars + 4000]
    tokens = _tokens(strip_boilerplate(markup))
    plain = _plain(tokens)
    if not plain:
        return ""
    keep, cut_inside = _keep(plain, sentences, max_chars)
    result = _write(tokens, keep)
    if cut_inside:
        result = _with_ellipsis(result)
    return result


def _with_ellipsis(result: str) -> str:
    """``result`` with "…" after its last character of text (inside its closing tags)."""
    tail = ""
    while result.endswith(">") and "</" in result:
        start = result.rindex("</")
        tail = result[start:] + tail
        result = result[:start]
    return result.rstrip(" ,;:·-–—") + ELLIPSIS + tail
