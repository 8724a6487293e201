"""Feed parsing: RSS and Atom quickly with lxml, anything odd with feedparser.

:func:`parse_feed` turns the bytes of a feed into a :class:`ParsedFeed`. Well-formed RSS 2.0,
RSS 1.0/0.90 (RDF) and Atom 1.0 documents go through a *fast path*: one pass over an lxml tree
with a hardened parser (no entities resolved, no network, no DTD). Everything else falls back to
feedparser: documents that are not well-formed XML, other dialects (Atom 0.3, CDF ...), inline
XHTML or base64 content, a DOCTYPE, an HTTP charset that contradicts the document ... The fast
path declines whenever it is not sure to give feedparser's answer.

The fast path mirrors feedparser's rules where feeds are ambiguous, so both paths agree (the
test suite checks this on every captured real feed): which of several titles, summaries and
links wins, how an RSS title that "looks like HTML" is treated, how ``<author>`` text splits
into a name and an address, relative URLs resolved against ``xml:base`` or the feed's URL,
and feedparser's repairs of mojibake and windows-1252 characters.

Summaries stay *unsanitized* HTML here: the pipeline sanitizes every item later.

JSON Feed (https://jsonfeed.org) documents are read too; any other JSON, an HTML page, an empty
body or text in which feedparser finds no feed raise :class:`FeedError`.

The package, one module per part: :mod:`.model` (the results and the errors),
:mod:`.sniffing` (what a body is), :mod:`.fast` (the lxml fast path) with :mod:`.prolog` (its
checks on a document's first bytes) and :mod:`.names` (feedparser's names for elements),
:mod:`.fallback` (feedparser), :mod:`.jsonfeed` (JSON Feed), and the rules they share:
:mod:`.text`, :mod:`.urls`, :mod:`.dates`.
"""

from __future__ import annotations

import logging

from newsroom.collect.feeds.dates import parse_date
from newsroom.collect.feeds.fallback import _parse_with_feedparser
from newsroom.collect.feeds.fast import _FastParser
from newsroom.collect.feeds.jsonfeed import _parse_json_feed
from newsroom.collect.feeds.model import (
    FastPathDeclined,
    FeedEntry,
    FeedError,
    ParsedFeed,
    _Decline,
)
from newsroom.collect.feeds.model import ParserChoice as ParserChoice
from newsroom.collect.feeds.sniffing import _sniff
from newsroom.collect.feeds.text import _HTML_ELEMENTS as _HTML_ELEMENTS
from newsroom.collect.feeds.text import HTML_TYPES as HTML_TYPES
from newsroom.collect.feeds.urls import _SAFE_SCHEMES as _SAFE_SCHEMES

__all__ = [
    "FastPathDeclined",
    "FeedEntry",
    "FeedError",
    "ParsedFeed",
    "parse_date",
    "parse_feed",
]

log = logging.getLogger(__name__)


def parse_feed(
    content: bytes,
    *,
    url: str,
    content_type: str | None = None,
    parser: ParserChoice = "auto",
) -> ParsedFeed:
    """Parse a feed fetched from ``url`` (the base for relative links).

    ``content_type`` is the HTTP Content-Type, whose charset feedparser honours. ``parser``
    forces a path: ``"fast"`` raises :class:`FastPathDeclined` instead of falling back,
    ``"feedparser"`` skips the fast path. Raises :class:`FeedError` when ``content`` is not a
    feed.
    """
    if parser not in ("auto", "fast", "feedparser"):
        raise ValueError(f"parser must be 'auto', 'fast' or 'feedparser', not {parser!r}")
    if _sniff(content, url) == "json":
        return _parse_json_feed(content, url)
    if parser == "fast":
        try:
            return _FastParser(url, content_type).parse(content)
        except _Decline as exc:
            raise FastPathDeclined(str(exc)) from None
    if parser == "auto":
        try:
            return _FastParser(url, content_type).parse(content)
        except _Decline as exc:
            log.debug("fast feed parser declined %s: %s", url, exc)
        except FeedError:
            raise
        except Exception:  # a bug in the fast path must not cost the feed: fall back
            log.warning("fast feed parser failed on %s; using feedparser", url, exc_info=True)
    return _parse_with_feedparser(content, url, content_type)
