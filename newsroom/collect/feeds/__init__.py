"""Feed parsing: RSS and Atom quickly with lxml, anything odd with feedparser.

The parser lives in :mod:`.fast` while the package is being split along its seams.
"""

from __future__ import annotations

from newsroom.collect.feeds.dates import parse_date
from newsroom.collect.feeds.fast import parse_feed
from newsroom.collect.feeds.model import (
    FastPathDeclined,
    FeedEntry,
    FeedError,
    ParsedFeed,
    ParserChoice,
)
from newsroom.collect.feeds.text import _HTML_ELEMENTS as _HTML_ELEMENTS
from newsroom.collect.feeds.text import HTML_TYPES as HTML_TYPES
from newsroom.collect.feeds.urls import _SAFE_SCHEMES as _SAFE_SCHEMES

__all__ = [
    "FastPathDeclined",
    "FeedEntry",
    "FeedError",
    "ParsedFeed",
    "ParserChoice",
    "parse_date",
    "parse_feed",
]
