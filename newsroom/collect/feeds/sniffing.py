"""What a body is before any parser reads it: JSON (a JSON Feed, perhaps), XML, or not a
feed at all (an empty body, an HTML page).

Apart because both XML paths and :func:`~newsroom.collect.feeds.parse_feed` ask it, and its
answer for an HTML page (naming the feed the page links to, if any) must be the same whichever
path found out.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin

from newsroom.collect.feeds.model import FeedError

_BOMS_AND_SPACE = b"\xef\xbb\xbf \t\r\n"
_FEED_LINK = re.compile(
    rb"""<link\b[^>]*\btype\s*=\s*["']application/(?:rss|atom)\+xml["'][^>]*>""", re.I
)
_HREF = re.compile(rb"""\bhref\s*=\s*["']([^"']+)["']""", re.I)


def _sniff(content: bytes, url: str) -> str:
    """``"json"`` or ``"xml"``; raise :class:`FeedError` for an empty body or an HTML page."""
    head = content[:1024].lstrip(_BOMS_AND_SPACE)
    if not head and not content.strip(_BOMS_AND_SPACE):
        raise FeedError("empty response body, not a feed")
    if head[:1] in (b"{", b"["):
        return "json"
    if head[:14].lower().startswith((b"<!doctype html", b"<html")):
        raise FeedError(_html_page_message(content, url))
    return "xml"


def _looks_like_html_page(content: bytes) -> bool:
    head = content[:4096].lower()
    return b"<html" in head or b"<!doctype html" in head


def _html_page_message(content: bytes, url: str) -> str:
    """Say it is an HTML page, naming the feed the page links to when it has one."""
    message = "got an HTML page, not a feed"
    link = _FEED_LINK.search(content[:65536])
    href = _HREF.search(link.group(0)) if link else None
    if href:
        target = urljoin(url, html.unescape(href.group(1).decode("utf-8", "replace")))
        message += f" (the page links to a feed: {target})"
    return message
