"""Plain text helpers for the text part of the email: width-aware wrapping, rules, and HTML
fields as text whose links are numbered and listed (:class:`References`).

Korean and other wide characters take two columns in a terminal or a monospace mail
client, so widths are counted in columns, not code points. Lines break only at spaces
(Korean separates words with spaces), so no word, URL or syllable is ever split.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

import lxml.html


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


# -- sanitized HTML → text with numbered links -------------------------------------------


class References:
    """The links of one part of the text part (an item, the intro, the insight), numbered
    in order of appearance: a link's text is followed by ``[1]``, and the URLs are listed
    under the part (``for number, url in refs``). One URL keeps one number.

    ``refs.text(html, 72, "   ")`` turns a sanitized HTML field into wrapped text:
    paragraphs, numbered lists as ``1.``, bulleted lists as ``-``, quotes as ``>``.
    """

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}

    def number(self, url: str) -> int:
        return self._numbers.setdefault(url, len(self._numbers) + 1)

    def __iter__(self) -> Iterator[tuple[int, str]]:
        return iter([(n, url) for url, n in self._numbers.items()])

    def __bool__(self) -> bool:
        return bool(self._numbers)

    def text(self, value: object, width: int = 72, indent: str = "") -> str:
        if not value or not str(value).strip():
            return ""
        root = lxml.html.fragment_fromstring(str(value), create_parent="div")
        blocks = self._blocks(root, width, indent)
        return "\n\n".join(b for b in blocks if b.strip())

    # The sanitizer leaves few tags (newsroom.core.sanitize.ALLOWED_TAGS): block ones become
    # paragraphs, lists and quotes; inline ones their text; links their text and a number.

    def _blocks(self, parent: lxml.html.HtmlElement, width: int, indent: str) -> list[str]:
        blocks: list[str] = []
        run: list[str] = [_spaced(parent.text)]

        def flush() -> None:
            text = "".join(run).strip()
            run.clear()
            if text:
                blocks.append(wrap(_lines(text), width, indent))

        for child in parent:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag in ("p", "ul", "ol", "blockquote", "pre", "div"):
                flush()
                if tag in ("p", "div"):
                    blocks.extend(self._blocks(child, width, indent))
                elif tag in ("ul", "ol"):
                    blocks.append(self._list(child, width, indent, ordered=tag == "ol"))
                elif tag == "blockquote":
                    blocks.extend(self._blocks(child, width, indent + "> "))
                else:
                    lines = child.text_content().rstrip().split("\n")
                    blocks.append("\n".join(indent + ln for ln in lines))
            elif tag:
                run.append(self._inline(child))
            run.append(_spaced(child.tail))
        flush()
        return blocks

    def _list(
        self, element: lxml.html.HtmlElement, width: int, indent: str, *, ordered: bool
    ) -> str:
        start = element.get("start")
        first = int(start) if ordered and start and start.isdigit() else 1
        items = [c for c in element if isinstance(c.tag, str)]
        out: list[str] = []
        for number, item in enumerate(items, first):
            marker = f"{number}. " if ordered else "- "
            pad = indent + " " * len(marker)
            body = self._blocks(item, width, pad)
            text = "\n".join(body).lstrip(" ") if body else ""
            out.append(indent + marker + text)
        return "\n".join(out)

    def _inline(self, element: lxml.html.HtmlElement) -> str:
        if element.tag == "br":
            return "\n"
        parts = [_spaced(element.text)]
        for child in element:
            if isinstance(child.tag, str):
                parts.append(self._inline(child))
            parts.append(_spaced(child.tail))
        inner = "".join(parts)
        href = element.get("href") if element.tag == "a" else None
        if not href or not href.startswith(("http://", "https://")):
            return inner
        if not inner.strip() or inner.strip() == href:
            return href  # a bare URL is its own reference
        return f"{inner.rstrip()} [{self.number(href)}]" + (" " if inner.endswith(" ") else "")


def _spaced(text: str | None) -> str:
    # HTML collapses whitespace: newlines in the source are spaces on the page.
    return re.sub(r"\s+", " ", text) if text else ""


def _lines(text: str) -> str:
    """Line breaks (``<br>``) kept, spaces around them dropped."""
    return "\n".join(line.strip() for line in text.split("\n"))
