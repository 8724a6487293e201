"""Markdown (kramdown/Jekyll) output: escaping, sanitized HTML → Markdown, YAML values, slugs.

Everything here returns text that is safe to place in a Jekyll post:

- plain text cannot start Markdown syntax (emphasis, links, headings, lists, tables, math),
  cannot inject HTML (``&``, ``<``, ``>`` become entities) and cannot reach Liquid
  (``{`` and ``}`` become entities, so ``{{``/``{%`` never appear);
- HTML fields (already sanitized) become the equivalent Markdown, their text escaped the same way;
- front-matter values are JSON-style double-quoted strings, which every YAML parser reads.
"""

from __future__ import annotations

import json
import re
import unicodedata
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

from markupsafe import Markup, escape

from newsroom.sanitize import SafeHTML

# "&" only matters where it would start an entity; "<" could start a tag; braces could
# start Liquid ({{ }}, {% %}) or a kramdown attribute list ({: }).
_ENTITY_LIKE = re.compile(r"&(?=#?\w+;)")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "{": "&#123;", "}": "&#125;"}
_HTML_CHARS = re.compile(r"[<>{}]")
# Characters with a meaning anywhere in a kramdown/GFM line.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]|$~#])")
# Syntax that only counts at the start of a line: lists, setext rules, definitions.
_LINE_START = re.compile(r"(^|\n)([ \t]*)([-+=:]|\d+(?=[.)]))")


def _escape_html(text: str) -> str:
    text = _ENTITY_LIKE.sub("&amp;", text)
    return _HTML_CHARS.sub(lambda m: _ENTITIES[m.group()], text)


def _escape_text(text: str) -> str:
    # Backslashes first: the entities added next contain "#", which must stay unescaped.
    return _escape_html(_INLINE_SPECIAL.sub(r"\\\1", text))


def escape_markdown(value: Any, *, line_start: bool = False) -> Markup:
    """``value`` as literal Markdown text (HTML fields are converted instead).

    Text placed after other text on a line (a heading's words, a link label) only needs
    inline escapes; with ``line_start`` the beginning also cannot start a list or a rule.
    """
    if isinstance(value, SafeHTML):
        return html_to_markdown(value)
    text = _escape_text("" if value is None else str(value))

    def block_syntax(m: re.Match[str]) -> str:
        if not (m.group(1) or line_start):  # the very beginning, placed mid-line
            return m.group(0)
        mark = m.group(3)
        # "1." starts a list, "1\." does not; "-", "+", "=", ":" are escaped themselves.
        escaped = mark + "\\" if mark[0].isdigit() else "\\" + mark
        return m.group(1) + m.group(2) + escaped

    return Markup(_LINE_START.sub(block_syntax, text))


# Characters that may stay as they are in a link destination; the rest are percent-encoded,
# so spaces, parentheses, angle brackets and braces cannot end the link or reach Liquid.
_URL_SAFE = "/:?#@!$&'*+,;=%~-._[]"


def markdown_url(value: Any) -> Markup:
    """A URL for a Markdown link destination ``[text](url)``."""
    return Markup(quote(str(value or ""), safe=_URL_SAFE))


def yaml_value(value: Any) -> Markup:
    """``value`` as a YAML flow value: strings double-quoted JSON-style, lists as ``[...]``."""
    if isinstance(value, (list, tuple)):
        return Markup("[" + ", ".join(yaml_value(v) for v in value) + "]")
    if value is None or isinstance(value, (bool, int, float)):
        return Markup(json.dumps(value))
    text = json.dumps(str(value), ensure_ascii=False)
    # JSON leaves these raw, but YAML 1.1 reads NEL/LS/PS as line breaks and forbids the
    # other non-printable characters: escape them the way JSON would.
    return Markup(_YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def slugify(text: str, *, max_length: int = 60) -> str:
    """A file-name slug that keeps Korean: ``"AI 브리핑!"`` → ``"ai-브리핑"``."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    text = re.sub(r"[^\w\s-]", "", text)
    text = re.sub(r"[\s_-]+", "-", text).strip("-")
    return text[:max_length].rstrip("-")


# -- sanitized HTML → Markdown ------------------------------------------------------------

_MARKS = {"strong": "**", "b": "**", "em": "*", "i": "*", "del": "~~", "s": "~~"}
# Inline tags Markdown has no syntax for: kept as HTML (kramdown allows span-level HTML).
_KEEP_INLINE = {"code", "kbd", "sub", "sup", "mark", "abbr", "u", "small", "q"}
_BLOCKS = {"p", "ul", "ol", "blockquote", "pre"}


class _Buffer:
    """Output of one open element that needs its content wrapped when it closes."""

    def __init__(self, tag: str, attrs: dict[str, str | None]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parts: list[str] = []

    def text(self) -> str:
        return "".join(self.parts)


class _MarkdownWriter(HTMLParser):
    """Converts the sanitizer's small tag set; text nodes are escaped with :func:`escape_markdown`."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[_Buffer] = [_Buffer("", {})]
        self.lists: list[list[Any]] = []  # [tag, next number]
        self.pre = 0

    # The innermost buffer receives output.
    def emit(self, text: str) -> None:
        self.stack[-1].parts.append(text)

    def block_break(self) -> None:
        current = self.stack[-1].text()
        if current and not current.endswith("\n\n"):
            self.emit("\n\n" if not current.endswith("\n") else "\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.pre:
            self.emit(f"<{tag}>" if tag == "code" else "")
            return
        if tag == "br":
            self.emit("<br>\n")
        elif tag in ("p", "ul", "ol"):
            if tag != "p":
                self.lists.append([tag, 1])
            if not (tag != "p" and self.stack[-1].tag == "li"):
                self.block_break()
            else:
                self.emit("\n")
        elif tag in ("li", "a", "blockquote", "pre") or tag in _MARKS:
            if tag in ("blockquote", "pre"):
                self.block_break()
            if tag == "pre":
                self.pre += 1
            self.stack.append(_Buffer(tag, dict(attrs)))
        elif tag in _KEEP_INLINE:
            title = dict(attrs).get("title") if tag == "abbr" else None
            attr = f' title="{_escape_html(str(escape(title)))}"' if title else ""
            self.emit(f"<{tag}{attr}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self.pre and tag != "pre":
            self.emit("</code>" if tag == "code" else "")
            return
        if tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            if self.stack[-1].tag != "li":
                self.block_break()
        elif tag == "p":
            self.block_break()
        elif tag in _KEEP_INLINE:
            self.emit(f"</{tag}>")
        elif tag == self.stack[-1].tag and len(self.stack) > 1:
            self._close(self.stack.pop())

    def _close(self, buf: _Buffer) -> None:
        content = buf.text()
        if buf.tag in _MARKS:
            core = content.strip()
            if core:
                lead = content[: len(content) - len(content.lstrip())]
                trail = content[len(content.rstrip()):]
                mark = _MARKS[buf.tag]
                content = f"{lead}{mark}{core}{mark}{trail}"
            self.emit(content)
        elif buf.tag == "a":
            href = buf.attrs.get("href")
            label = content.strip() or (escape_markdown(href) if href else "")
            self.emit(f"[{label}]({markdown_url(href)})" if href else content)
        elif buf.tag == "li":
            kind = self.lists[-1] if self.lists else ["ul", 1]
            marker = f"{kind[1]}. " if kind[0] == "ol" else "- "
            kind[1] += 1
            lines = content.strip("\n").split("\n")
            pad = " " * len(marker)
            body = "\n".join([marker + lines[0].strip()] + [pad + ln if ln.strip() else "" for ln in lines[1:]])
            current = self.stack[-1].text()
            if current and not current.endswith("\n"):
                self.emit("\n")
            self.emit(body + "\n")
        elif buf.tag == "blockquote":
            lines = content.strip("\n").split("\n")
            self.emit("\n".join("> " + ln if ln.strip() else ">" for ln in lines))
            self.block_break()
        elif buf.tag == "pre":
            self.pre -= 1
            # A block-level HTML element: kramdown leaves its content alone (no Markdown).
            self.emit(f"<pre>{content}</pre>")
            self.block_break()

    def handle_data(self, data: str) -> None:
        if self.pre:
            self.emit(_escape_html(data))
            return
        text = re.sub(r"\s+", " ", data)
        current = self.stack[-1].text()
        at_start = not current or current.endswith("\n")
        if at_start:
            text = text.lstrip()
        if text:
            # An <li>'s text follows its "- " marker, so it cannot start a block there.
            self.emit(escape_markdown(text, line_start=at_start and self.stack[-1].tag != "li"))

    def result(self) -> str:
        while len(self.stack) > 1:  # unclosed tags in odd input: close them in order
            self._close(self.stack.pop())
        text = self.stack[0].text()
        lines = [line.rstrip() for line in text.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_markdown(value: Any) -> Markup:
    """Sanitized HTML (a :class:`SafeHTML` field) as Markdown; any other value is escaped."""
    if not isinstance(value, SafeHTML):
        return escape_markdown(value)
    writer = _MarkdownWriter()
    writer.feed(str(value))
    writer.close()
    return Markup(writer.result())
