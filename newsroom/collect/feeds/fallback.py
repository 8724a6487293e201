"""The feedparser path: whatever the fast path declines (documents that are not well-formed,
other dialects, inline XHTML, a DOCTYPE, an HTTP charset that contradicts the document ...).

Apart because it is the slow, forgiving reader that turns feedparser's results into the same
:class:`FeedEntry` the fast path builds; feedparser is imported on its first use, so a build
whose feeds all take the fast path never loads it.
"""

from __future__ import annotations

import io
from typing import Any

from newsroom.collect.feeds.dates import parse_date
from newsroom.collect.feeds.model import FeedEntry, FeedError, ParsedFeed
from newsroom.collect.feeds.sniffing import _html_page_message, _looks_like_html_page
from newsroom.collect.feeds.text import HTML_TYPES, _as_html, _map_content_type, _plain, _unique


def _parse_with_feedparser(content: bytes, url: str, content_type: str | None) -> ParsedFeed:
    """feedparser's reading of anything the fast path declined."""
    import feedparser  # type: ignore[import-untyped]  # on first use: see text._HTML_ELEMENTS

    # Without a Content-Type feedparser would assume ISO-8859-1 for a document without an
    # XML declaration; application/xml makes it follow the document (UTF-8 by default).
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    try:
        result = feedparser.parse(
            io.BytesIO(content),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=True,
        )
    except Exception as exc:  # noqa: BLE001 - feedparser trips over some garbage (bad bytes
        # in the XML declaration ...): that is a body that is not a feed, not a crash.
        raise FeedError(
            _one_line(f"not a feed: feedparser failed on it ({type(exc).__name__}: {exc})")
        ) from None
    problems = []
    if result.get("bozo"):
        bozo = result.get("bozo_exception")
        problems.append(_one_line(f"{type(bozo).__name__}: {bozo}"))
    if not result.entries and not result.get("version"):
        if _looks_like_html_page(content) or (content_type or "").startswith("text/html"):
            raise FeedError(_html_page_message(content, url))
        if problems:
            raise FeedError(
                f"not a feed: not well-formed XML, and feedparser found no feed in it "
                f"({problems[0]})"
            )
        raise FeedError("not a feed: no RSS or Atom elements in the document")
    feed = result.feed
    title_type = feed.get("title_detail", {}).get("type", "text/plain")
    return ParsedFeed(
        title=_plain(dict.get(feed, "title", ""), title_type),
        link=dict.get(feed, "link") or None,
        entries=[_entry_from_feedparser(e) for e in result.entries],
        parser="feedparser",
        problems=problems,
    )


def _entry_from_feedparser(e: dict[str, Any]) -> FeedEntry:
    get = dict.get  # plain lookups: FeedParserDict's aliases would blur published/updated
    contents = [(c.get("value") or "", c.get("type", "text/plain")) for c in get(e, "content", [])]
    summary = get(e, "summary") or ""
    detail = get(e, "summary_detail")
    if detail is not None:
        summary_type = detail.get("type", "text/html")
    else:  # feedparser copied it from the first text or HTML content
        summary_type = next(
            (t for _, t in contents if t in ("text/plain", "text/html")), "text/html"
        )
    summary = _as_html(summary, summary_type)
    if not summary.strip():
        summary = next((_as_html(v, t) for v, t in contents if v.strip()), "")
    link = _feedparser_link(e)
    published = parse_date(get(e, "published"))
    updated = parse_date(get(e, "updated"))
    return FeedEntry(
        id=get(e, "id") or link or "",
        title=_plain(get(e, "title") or "", get(e, "title_detail", {}).get("type", "text/plain")),
        link=link,
        summary=summary,
        published=published or updated,
        updated=updated,
        authors=_unique([a.get("name") or "" for a in get(e, "authors", [])]),
        tags=_unique([(t.get("term") or "").strip() for t in get(e, "tags", [])]),
        image=_feedparser_image(e),
        comments=get(e, "comments") or _feedparser_replies(e),
    )


def _feedparser_link(e: dict[str, Any]) -> str | None:
    """The entry's link, except that of a text ``<link rel="enclosure">`` (feedparser 6.0)."""
    link = dict.get(e, "link") or None
    links = dict.get(e, "links", [])
    rel = next((x.get("rel") for x in links if x.get("href") == link), "alternate")
    if link is None or rel == "alternate":
        return link
    alternates = [
        x["href"]
        for x in links
        if x.get("rel") == "alternate"
        and x.get("href")
        and _map_content_type(x.get("type", "text/html")) in HTML_TYPES
    ]
    return alternates[-1] if alternates else None


def _feedparser_image(e: dict[str, Any]) -> str | None:
    for thumb in dict.get(e, "media_thumbnail", []):
        if thumb.get("url"):
            return str(thumb["url"]).strip()
    for media in dict.get(e, "media_content", []):
        is_image = media.get("medium") == "image" or str(media.get("type", "")).lower().startswith(
            "image/"
        )
        if media.get("url") and is_image:
            return str(media["url"]).strip()
    for link in dict.get(e, "links", []):
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            return link.get("href") or None
    return None


def _feedparser_replies(e: dict[str, Any]) -> str | None:
    for link in dict.get(e, "links", []):
        if link.get("rel") == "replies" and _map_content_type(link.get("type", "")) in HTML_TYPES:
            return link.get("href") or None
    return None


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
