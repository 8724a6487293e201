"""The public Atom feed, ``www.producthunt.com/feed`` (no token needed).

Each entry's content is escaped HTML: the tagline in a first ``<p>``, then a
``<p><a>Discussion</a> | <a href=".../r/p/<id>">Link</a></p>`` line that is not part of the
description. The feed lists posts by recent activity, not by date, and carries no votes,
comments or topics: those need the GraphQL API.
"""

from __future__ import annotations

import calendar
import datetime as dt
import html
import io
import re
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from newsroom import Item, SourceError
from newsroom.core.urls import without_tracking

_POST_ID = re.compile(r"Post/(\d+)$")
_REDIRECT = "/r/p/"


def fold(text: str | None) -> str:
    return " ".join((text or "").split())


def split_content(content: str) -> tuple[str, str | None]:
    """The tagline and the ``/r/p/<id>`` website redirect from an entry's content HTML."""
    tree = LexborHTMLParser(content)
    tagline, website = "", None
    for paragraph in tree.css("p"):
        links = paragraph.css("a[href]")
        redirect = next(
            (a.attributes["href"] for a in links if _REDIRECT in (a.attributes.get("href") or "")),
            None,
        )
        if redirect or any(fold(a.text()) == "Discussion" for a in links):
            website = website or redirect  # the "Discussion | Link" line: not the tagline
        elif not tagline:
            tagline = fold(paragraph.text(deep=True))
    if not tagline and tree.body is not None and not tree.css("p"):
        tagline = fold(tree.body.text(deep=True))  # a plain-text content, just in case
    return tagline, website


def _published(entry: Any) -> dt.datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    # feedparser gives UTC struct_times; timegm reads them as such.
    return dt.datetime.fromtimestamp(calendar.timegm(parsed), tz=dt.UTC)


def entry_to_item(entry: Any) -> Item | None:
    """One product, or ``None`` for an entry without a title or link."""
    title, link = fold(entry.get("title")), entry.get("link")
    if not title or not link:
        return None
    content = entry["content"][0]["value"] if entry.get("content") else entry.get("summary", "")
    tagline, website = split_content(content or "")
    extra = {}
    match = _POST_ID.search(entry.get("id", ""))
    if match:
        extra["producthunt_id"] = match.group(1)
    return Item(
        url=link,
        title=title,
        summary=f"<p>{html.escape(tagline)}</p>" if tagline else "",
        kind="product",
        publisher="Product Hunt",
        published=_published(entry),
        authors=[fold(entry["author"])] if entry.get("author") else [],
        # The redirect to the product's site, without the feed's tracking parameter.
        links={"website": without_tracking(website)} if website else {},
        extra=extra,
    )


def _newest_first(item: Item) -> float:
    return -item.published.timestamp() if item.published else float("inf")


def parse_feed(content: bytes, url: str) -> tuple[list[Item], int]:
    """The feed's products, newest first, and how many entries were unusable."""
    import feedparser  # here, not at import: loading plugins should stay cheap

    # A BytesIO, never bytes: feedparser would take a body like b"/etc/passwd" for a path.
    parsed = feedparser.parse(io.BytesIO(content))
    if not parsed.get("version"):
        reason = parsed.get("bozo_exception")
        detail = f" ({reason})" if reason else ""
        raise SourceError(f"Product Hunt did not answer with a feed{detail}", url=url)
    items = [entry_to_item(entry) for entry in parsed.entries]
    usable = [item for item in items if item is not None]
    # The feed is ordered by recent activity; a stable sort keeps that for equal dates.
    return sorted(usable, key=_newest_first), len(items) - len(usable)
