"""JSON Feed (https://jsonfeed.org, versions 1 and 1.1); any other JSON is not a feed.

Apart because it shares nothing with the XML paths but the results and the text and URL
rules: no tree, no decline, no fallback.
"""

from __future__ import annotations

import html
import json
from typing import Any

from newsroom.collect.feeds.dates import parse_date
from newsroom.collect.feeds.model import FeedEntry, FeedError, ParsedFeed
from newsroom.collect.feeds.text import _looks_like_html, _plain, _unique
from newsroom.collect.feeds.urls import _resolve_html, _urljoin


def _parse_json_feed(content: bytes, url: str) -> ParsedFeed:
    """A JSON Feed (version 1 or 1.1); any other JSON is not a feed."""
    try:
        data = json.loads(content)
    except ValueError:
        raise FeedError("got malformed JSON, not a feed") from None
    version = data.get("version") if isinstance(data, dict) else None
    if not (isinstance(version, str) and version.startswith("https://jsonfeed.org/version/")):
        raise FeedError("got JSON, not a feed")
    items = data.get("items")
    entries = (
        [_json_entry(i, url) for i in items if isinstance(i, dict)]
        if isinstance(items, list)
        else []
    )
    home = data.get("home_page_url")
    return ParsedFeed(
        title=_json_title(data.get("title")),
        link=_urljoin(url, home) if isinstance(home, str) and home else None,
        entries=entries,
        parser="fast",
    )


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _json_authors(item: dict[str, Any]) -> list[str]:
    people = item.get("authors")
    if not isinstance(people, list):
        people = [item.get("author")]
    return _unique([_str(p.get("name")) for p in people if isinstance(p, dict)])


def _json_title(value: Any) -> str:
    # JSON Feed titles are plain text, but blog software often leaves entities in them.
    text = _str(value)
    return _plain(text, "text/html" if _looks_like_html(text) else "text/plain")


def _json_entry(item: dict[str, Any], url: str) -> FeedEntry:
    link = _str(item.get("url")) or _str(item.get("external_url"))
    if _str(item.get("summary")):
        summary = html.escape(_str(item["summary"]), quote=False)
    elif _str(item.get("content_html")):
        summary = _resolve_html(_str(item["content_html"]), url)
    else:
        summary = html.escape(_str(item.get("content_text")), quote=False)
    published = parse_date(_str(item.get("date_published")))
    updated = parse_date(_str(item.get("date_modified")))
    tags = item.get("tags")
    image = _str(item.get("image")) or _str(item.get("banner_image"))
    return FeedEntry(
        id=_str(item.get("id")) or link,
        title=_json_title(item.get("title")),
        link=_urljoin(url, link) if link else None,
        summary=summary,
        published=published or updated,
        updated=updated,
        authors=_json_authors(item),
        tags=_unique([_str(t) for t in tags]) if isinstance(tags, list) else [],
        image=_urljoin(url, image) if image else None,
    )
