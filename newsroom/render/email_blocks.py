"""Which blocks of a theme's email are MJML and which are HTML, and who put MJML in HTML.

The email template is MJML, but some of its blocks render inside an element whose content
is HTML (``section_title`` and ``item`` inside the section's ``<mj-text>``). MJML tags
written there are not compiled: MRML copies them into ``email.html`` as they are, where
mail clients drop them with their content. :func:`mjml_left_in` finds such tags in the
compiled email and names the theme, file and block (or partial) that wrote them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from newsroom.render.themes import Theme, inside_theme

EMAIL_TEMPLATE = "email/edition.mjml.j2"

#: MJML elements whose content is HTML (what ``mj-text`` and its kind hold).
HTML_CONTENT = frozenset(
    {"mj-text", "mj-raw", "mj-button", "mj-table", "mj-navbar-link", "mj-accordion-text"}
)
MJML_TAG = re.compile(r"<\s*/?\s*(mj-[a-z-]+)", re.I)
_COMMENT = re.compile(r"{#.*?#}", re.S)
_TOKEN = re.compile(
    r"<\s*(?P<close>/?)\s*(?P<tag>mj-[a-z-]+)[^>]*?(?P<empty>/?)>"
    r"|{%-?\s*block\s+(?P<block>\w+)"
    r"|{%-?\s*include\s+[\"'](?P<include>[^\"']+)[\"']",
    re.I,
)


@dataclass(frozen=True)
class HtmlPart:
    """A block or a partial of the email that renders inside an HTML-content element."""

    kind: str  # "block" or "partial"
    name: str
    inside: str  # the MJML element around it, e.g. mj-text


def html_parts(text: str) -> list[HtmlPart]:
    """The blocks and included partials of the MJML template ``text`` that are HTML."""
    stack: list[str] = []
    found: list[HtmlPart] = []
    for m in _TOKEN.finditer(_COMMENT.sub("", text)):
        tag = (m.group("tag") or "").lower()
        if tag in HTML_CONTENT and not m.group("empty"):
            if m.group("close"):
                if tag in stack:
                    del stack[len(stack) - 1 - stack[::-1].index(tag) :]
            else:
                stack.append(tag)
        elif stack and m.group("block"):
            found.append(HtmlPart("block", m.group("block"), stack[-1]))
        elif stack and m.group("include"):
            found.append(HtmlPart("partial", m.group("include"), stack[-1]))
    return found


def email_html_parts(theme: Theme) -> list[HtmlPart]:
    """The HTML blocks and partials of ``theme``'s email, from the template its chain
    starts from (the one that extends nothing)."""
    for t in reversed(theme.chain):
        path = t.path / "templates" / EMAIL_TEMPLATE
        if path.is_file():
            inside_theme(t.path, path)
            return html_parts(path.read_text("utf-8"))
    return []


def _block_body(text: str, name: str) -> str:
    m = re.search(
        rf"{{%-?\s*block\s+{name}\b[^%]*%}}(.*?){{%-?\s*endblock(?:\s+{name})?\s*-?%}}",
        _COMMENT.sub("", text),
        re.S,
    )
    return m.group(1) if m else ""


def mjml_left_in(html: str, theme: Theme, output: Path) -> str | None:
    """Why ``html`` (the compiled email) still holds MJML tags, or None when it holds none."""
    left = MJML_TAG.search(html)
    if left is None:
        return None
    tag = left.group(1).lower()
    parts = email_html_parts(theme)
    for t in theme.chain:
        templates = t.path / "templates"
        for part in parts:
            rel = EMAIL_TEMPLATE if part.kind == "block" else part.name
            path = templates / rel
            if not path.is_file():
                continue
            text = path.read_text("utf-8")
            body = _block_body(text, part.name) if part.kind == "block" else _COMMENT.sub("", text)
            if MJML_TAG.search(body):
                what = f"block {part.name!r}" if part.kind == "block" else "partial"
                return (
                    f"{output.name}: MJML tag <{tag}> left in the HTML: the {what} of theme "
                    f"{t.name!r} (templates/{rel}) renders inside <{part.inside}>, where only "
                    f"HTML is compiled; write HTML there (<p>, <div>), or MJML in an MJML "
                    "block (docs/themes.md, Blocks)"
                )
    return (
        f"{output.name}: MJML tag <{tag}> left in the HTML: a block or partial of theme "
        f"{theme.name!r} that renders inside <mj-text> holds MJML; write HTML there"
    )
