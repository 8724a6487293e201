"""Text helpers both XML paths and JSON Feed share: feedparser's repairs of mojibake and
windows-1252 characters, titles as plain text, text as HTML, feedparser's guess of whether
RSS text "looks like HTML", and the name in an RSS ``<author>``.

Apart because each rule must give the same answer on every path (the tests compare the paths
on real feeds), so there is one copy of it.
"""

from __future__ import annotations

import html
import html.entities
import re

from newsroom.core.sanitize import clean_text

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# feedparser maps stray C1 control characters to what windows-1252 meant by them.
_CP1252 = {
    c: bytes([c]).decode("cp1252")
    for c in range(0x80, 0xA0)
    if c not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}
# Every byte but the C1 controls, for ``bytes.translate(None, delete)``: what survives is C1.
_NOT_C1 = bytes(b for b in range(256) if not 0x80 <= b <= 0x9F)


def _fix_text(value: str) -> str:
    """feedparser's repairs: UTF-8 read as Latin-1, and windows-1252 punctuation.

    Byte-level checks (C speed) rather than regular expressions: summaries can be long.
    """
    if value.isascii():
        return value
    latin = value.encode("iso-8859-1", "ignore")
    if len(latin) == len(value):  # all Latin-1: perhaps UTF-8 bytes read as Latin-1
        try:
            value = latin.decode("utf-8")
            latin = value.encode("iso-8859-1", "ignore")
        except UnicodeDecodeError:
            pass
    if latin.translate(None, _NOT_C1):  # stray C1 controls: windows-1252 was meant
        value = value.translate(_CP1252)
    return value


def _as_html(value: str, content_type: str) -> str:
    """A text construct as HTML: plain text is escaped."""
    return value if content_type in HTML_TYPES else html.escape(value, quote=False)


def _plain(value: str, content_type: str) -> str:
    """A title as plain text: HTML loses its markup, whitespace is folded."""
    if content_type in HTML_TYPES:
        return clean_text(value)
    return " ".join(value.split())


def _unique(values: list[str]) -> list[str]:
    if len(values) < 2:
        return [v for v in values if v]
    return list(dict.fromkeys(v for v in values if v))


_SHORT_TYPES = {
    "text": "text/plain",
    "plain": "text/plain",
    "html": "text/html",
    "xhtml": "application/xhtml+xml",
}


def _map_content_type(value: str) -> str:
    value = value.lower()
    return _SHORT_TYPES.get(value, value)


# feedparser's own list (``_HTMLSanitizer.acceptable_elements``), so "looks like HTML" means
# the same on both paths. Copied rather than imported: importing feedparser takes 45 ms, which
# a build whose feeds all take the fast path would spend for nothing. A test checks it still
# matches (as it does for the other copy, ``_SAFE_SCHEMES`` in :mod:`.urls`).
_HTML_ELEMENTS = frozenset(
    """a abbr acronym address area article aside audio b big blockquote br button canvas
    caption center cite code col colgroup command datagrid datalist dd del details dfn dialog
    dir div dl dt em event-source fieldset figcaption figure font footer form h1 h2 h3 h4 h5 h6
    header hr i img input ins kbd keygen label legend li m map menu meter multicol nav nextid
    noscript ol optgroup option output p pre progress q s samp section select small sound
    source spacer span strike strong sub sup table tbody td textarea tfoot th thead time tr tt
    u ul var video""".split()
)
_CLOSE_TAG = re.compile(r"</(\w+)>")
_ENTITY = re.compile(r"&#?\w+;")
_TAG_NAMES = re.compile(r"</?(\w+)")
_ENTITY_NAMES = re.compile(r"&(\w+);")


def _looks_like_html(value: str) -> bool:
    """feedparser's guess for RSS text that may be HTML (a close tag or an entity, all known)."""
    if not (_CLOSE_TAG.search(value) or _ENTITY.search(value)):
        return False
    if any(t.lower() not in _HTML_ELEMENTS for t in _TAG_NAMES.findall(value)):
        return False
    return all(e in html.entities.entitydefs for e in _ENTITY_NAMES.findall(value))


_EMAIL = re.compile(
    r"""(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9\-]+\.)+))"""
    r"""([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?"""
)


def _author_name(text: str) -> str:
    """The name in an RSS ``<author>``: ``jo@example.com (Jo Kim)`` -> ``Jo Kim``.

    feedparser's rule, so both paths name the same people.
    """
    match = _EMAIL.search(text) if "@" in text else None
    if not match:
        return text
    name = text.replace(match.group(0), "").replace("()", "").replace("<>", "")
    name = name.replace("&lt;&gt;", "").strip()
    if name.startswith("("):
        name = name[1:]
    if name.endswith(")"):
        name = name[:-1]
    return name.strip()
