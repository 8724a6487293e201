"""What parsing a feed gives: :class:`ParsedFeed` and its :class:`FeedEntry` items, the
errors, and the signal by which the fast path hands a document to feedparser.

Apart from the parsers because every path (lxml, feedparser, JSON Feed) builds the same
results, and callers import them without importing a parser.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

ParserChoice = Literal["auto", "fast", "feedparser"]


class FeedError(ValueError):
    """The content is not a feed at all (an HTML page, JSON, an empty body ...)."""


class FastPathDeclined(Exception):
    """``parse_feed(..., parser="fast")`` met something it leaves to feedparser."""


@dataclass
class FeedEntry:
    """One entry of a feed, as the news source needs it."""

    id: str
    title: str
    """Plain text."""
    link: str | None
    """Absolute: resolved against ``xml:base`` or the feed's URL."""
    summary: str = ""
    """HTML, unsanitized; the entry's content when its summary is empty."""
    published: dt.datetime | None = None
    """Aware, UTC; the updated date when there is no published date."""
    updated: dt.datetime | None = None
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    image: str | None = None
    """media:thumbnail, or an image media:content or enclosure."""
    comments: str | None = None


@dataclass
class ParsedFeed:
    """A parsed feed: its title, link and entries, and which parser read it."""

    title: str
    link: str | None
    entries: list[FeedEntry]
    parser: str
    """``"fast"`` (lxml or JSON Feed) or ``"feedparser"``."""
    problems: list[str] = field(default_factory=list)
    """What feedparser complained about (its "bozo" exception), if anything."""


class _Decline(Exception):
    """The fast path leaves this document to feedparser; the message says why."""
