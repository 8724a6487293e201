"""What the fast path checks in a document's first bytes, before lxml sees it: no DOCTYPE in
the prolog, markup in plain ASCII bytes, and the encoding feedparser would choose too (the
BOM's, the XML declaration's, the HTTP charset's).

Apart because these checks are the fast path's safety and agreement boundary: what fails
them goes to feedparser, and they work on bytes alone, never on a tree.
"""

from __future__ import annotations

import codecs
import re

from newsroom.collect.feeds.model import _Decline

_XML_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")


def _declared_encoding(content: bytes) -> str:
    """The encoding lxml will use: the BOM's, else the XML declaration's, else UTF-8."""
    if content.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _Decline("UTF-16 document")
    match = _XML_DECLARED_ENCODING.match(content)
    return match.group(1).decode("ascii") if match else "utf-8"


_LEADING_SPACE = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*")
_SPACE = re.compile(rb"[ \t\r\n]*")


def _prolog_has_doctype(content: bytes) -> bool:
    """True when a DOCTYPE comes before the root element (the only place it may be).

    Reads the prolog only (declaration, comments, processing instructions), not the body.
    """
    at = _LEADING_SPACE.match(content).end()  # type: ignore[union-attr]
    while True:
        if content.startswith(b"<?", at):
            close = b"?>"
        elif content.startswith(b"<!--", at):
            close = b"-->"
        else:
            break
        end = content.find(close, at + 2)
        if end == -1:
            return False  # unterminated: lxml rejects the document before reading any DTD
        at = _SPACE.match(content, end + len(close)).end()  # type: ignore[union-attr]
    return content.startswith(b"<!", at)


_STARTS_WITH_MARKUP = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*<[?!A-Za-z_]")


def _ascii_compatible(encoding: str) -> bool:
    """True when markup is plain ASCII bytes in ``encoding`` (UTF-8, EUC-KR, Latin-1 ...)."""
    try:
        return "<!DOCTYPE ENTITY>".encode(encoding) == b"<!DOCTYPE ENTITY>"
    except (LookupError, UnicodeError):
        return False


def _charset(content_type: str | None) -> str | None:
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def _same_encoding(a: str, b: str) -> bool:
    try:
        return codecs.lookup(a).name == codecs.lookup(b).name
    except LookupError:
        return False


def _check_safe(content: bytes) -> None:
    """Decline what lxml must never see.

    libxml2 may read external parameter entities even with DTD loading off (with
    ``collect_ids=False``, a DOCTYPE naming ``file:///dev/zero`` hangs it), so any
    DOCTYPE goes to feedparser, whose parser drops them. The check is on bytes, so the
    document must be ASCII-compatible.
    """
    if not _STARTS_WITH_MARKUP.match(content):
        raise _Decline("does not start with '<' (UTF-16/32, EBCDIC or not XML)")
    if _prolog_has_doctype(content):
        raise _Decline("document has a DOCTYPE (entities are feedparser's job)")


def _check_encoding(content: bytes, content_type: str | None) -> None:
    """Decline when feedparser would decode the bytes differently than lxml."""
    declared = _declared_encoding(content)
    if not _ascii_compatible(declared):
        raise _Decline(f"{declared} is not an ASCII-compatible encoding")
    http = _charset(content_type)
    if http and not _same_encoding(http, declared):
        if not (_same_encoding(http, "ascii") and content.isascii()):
            raise _Decline(f"HTTP charset {http} differs from the document's {declared}")
    if declared.lower().replace("_", "-") in ("gb2312", "euc-cn"):
        raise _Decline("GB2312 (feedparser reads it as GB18030)")
