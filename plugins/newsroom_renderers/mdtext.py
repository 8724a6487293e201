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
from typing import Any
from urllib.parse import quote

import lxml.html
from markupsafe import Markup, escape

from newsroom.core.sanitize import SafeHTML

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


def _escape_line_starts(text: str, *, first: bool) -> str:
    """Escape list, rule and definition markers at line starts (``first``: the very start too)."""

    def block_syntax(m: re.Match[str]) -> str:
        if not (m.group(1) or first):
            return m.group(0)
        mark = m.group(3)
        # "1." starts a list, "1\." does not; "-", "+", "=", ":" are escaped themselves.
        escaped = mark + "\\" if mark[0].isdigit() else "\\" + mark
        return m.group(1) + m.group(2) + escaped

    return _LINE_START.sub(block_syntax, text)


def escape_markdown(value: Any, *, line_start: bool = False) -> Markup:
    """``value`` as literal Markdown text (HTML fields are converted instead).

    Text placed after other text on a line (a heading's words, a link label) only needs
    inline escapes; with ``line_start`` the beginning also cannot start a list or a rule.
    """
    if isinstance(value, SafeHTML):
        return html_to_markdown(value)
    text = _escape_text("" if value is None else str(value))
    return Markup(_escape_line_starts(text, first=line_start))


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
# The sanitizer leaves a small set of tags (newsroom.core.sanitize.ALLOWED_TAGS); each maps to
# Markdown syntax or, where Markdown has none, stays as span-level HTML (kramdown allows it).

_MARKS = {"strong": "**", "b": "**", "em": "*", "i": "*", "del": "~~", "s": "~~"}
_KEEP_INLINE = {"code", "kbd", "sub", "sup", "mark", "abbr", "u", "small", "q"}


def html_to_markdown(value: Any) -> Markup:
    """Sanitized HTML (a :class:`SafeHTML` field) as Markdown; any other value is escaped."""
    if not isinstance(value, SafeHTML):
        return escape_markdown(value)
    if not value.strip():
        return Markup("")
    root = lxml.html.fragment_fromstring(str(value), create_parent="div")
    text = "\n".join(line.rstrip() for line in _blocks(root).split("\n"))
    return Markup(re.sub(r"\n{3,}", "\n\n", text).strip())


def _braces(text: str) -> str:
    return text.replace("{", "&#123;").replace("}", "&#125;")


def _text(value: str | None) -> str:
    # HTML collapses whitespace; Markdown must not see newlines the HTML did not mean.
    return _escape_text(re.sub(r"\s+", " ", value)) if value else ""


def _blocks(parent: lxml.html.HtmlElement, sep: str = "\n\n") -> str:
    """The children of ``parent`` as Markdown blocks: paragraphs, lists, quotes, code."""
    blocks: list[str] = []
    run: list[str] = [_text(parent.text)]  # inline content between block elements

    def paragraph(parts: list[str]) -> None:
        joined = re.sub(r" {2,}", " ", "".join(parts))  # the spaces around inline tags
        text = "\n".join(line.strip() for line in joined.split("\n")).strip()
        if text:
            blocks.append(_escape_line_starts(text, first=True))

    for child in parent:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag in ("p", "ul", "ol", "blockquote", "pre"):
            paragraph(run)
            run = []
            if tag == "p":
                paragraph([_inline(child)])
            elif tag in ("ul", "ol"):
                blocks.append(_list(child, ordered=tag == "ol"))
            elif tag == "blockquote":
                quoted = _blocks(child).split("\n")
                blocks.append("\n".join(f"> {ln}" if ln else ">" for ln in quoted))
            else:
                # Block-level HTML: kramdown leaves its content alone, so no Markdown escapes.
                blocks.append(f"<pre>{_escape_html(child.text_content())}</pre>")
        elif tag:
            run.append(_inline_element(child))
        run.append(_text(child.tail))
    paragraph(run)
    return sep.join(b for b in blocks if b)


def _list(element: lxml.html.HtmlElement, *, ordered: bool) -> str:
    lines: list[str] = []
    for number, item in enumerate((c for c in element if isinstance(c.tag, str)), 1):
        marker = f"{number}. " if ordered else "- "
        body = _blocks(item, sep="\n").split("\n") or [""]
        pad = " " * len(marker)
        lines.append(marker + body[0])
        lines.extend(pad + ln if ln else "" for ln in body[1:])
    return "\n".join(lines)


def _inline(element: lxml.html.HtmlElement) -> str:
    parts = [_text(element.text)]
    for child in element:
        if isinstance(child.tag, str):
            parts.append(_inline_element(child))
        parts.append(_text(child.tail))
    return "".join(parts)


def _inline_element(element: lxml.html.HtmlElement) -> str:
    tag = element.tag
    if tag == "br":
        return "<br>\n"
    inner = _inline(element)
    if tag in _MARKS:
        core = inner.strip()
        if not core:
            return inner
        # "** bold **" is not bold: keep the spaces outside the markers.
        lead = inner[: len(inner) - len(inner.lstrip())]
        trail = inner[len(inner.rstrip()) :]
        return f"{lead}{_MARKS[tag]}{core}{_MARKS[tag]}{trail}"
    if tag == "a":
        href = element.get("href")
        if not href:
            return inner
        label = inner.strip() or _escape_text(href)
        return f"[{label}]({markdown_url(href)})"
    if tag in _KEEP_INLINE:
        title = element.get("title") if tag == "abbr" else None
        attr = f' title="{_braces(str(escape(title)))}"' if title else ""
        return f"<{tag}{attr}>{inner}</{tag}>"
    return inner
