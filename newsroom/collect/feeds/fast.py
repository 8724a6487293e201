"""The lxml fast path: one pass over an lxml tree of a well-formed RSS 2.0, RSS 1.0/0.90
(RDF) or Atom 1.0 document, with a hardened parser (no entities resolved, no network, no DTD).

It mirrors feedparser's rules where feeds are ambiguous, so both paths agree (the test suite
checks this on every captured real feed): which of several titles, summaries and links wins,
which elements count at which depth, what an entry holds that feedparser would read
differently. Whenever it is not sure to give feedparser's answer it declines (raises
``_Decline``), and the document goes to :mod:`.fallback`.

Apart because it is the part that must be fast: it runs on nearly every feed, where
feedparser is some twenty times slower per entry (benchmarks/bench_feeds.py).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from newsroom.collect.feeds.dates import parse_date
from newsroom.collect.feeds.model import FeedEntry, FeedError, ParsedFeed, _Decline
from newsroom.collect.feeds.names import _ATOM, _KEYS, _RDF, _RDF_ABOUT, _key
from newsroom.collect.feeds.prolog import _check_encoding, _check_safe
from newsroom.collect.feeds.sniffing import _html_page_message
from newsroom.collect.feeds.text import (
    HTML_TYPES,
    _as_html,
    _author_name,
    _fix_text,
    _looks_like_html,
    _map_content_type,
    _plain,
    _unique,
)
from newsroom.collect.feeds.urls import (
    _has_relative_url,
    _plainly_absolute,
    _resolve_html,
    _urljoin,
)

_XML_BASE = b"xml:base"
_UNSEEN: Any = object()

_local = threading.local()


def _xml_parser() -> etree.XMLParser:
    """One hardened parser per thread: no entity expansion, no network, no DTD, no huge trees."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
            remove_comments=True,
            remove_pis=True,
        )
    return parser


@dataclass(slots=True)
class _Entry:
    """Entry fields as the walk finds them, with the bookkeeping feedparser's rules need."""

    id: str = ""
    id_depth: int | None = None
    title: str = ""
    title_type: str = "text/plain"
    title_depth: int | None = None  # where the stored title came from
    title_seen: int = -1  # feedparser's title_depth: titles deeper than this are ignored
    summary: str = ""
    summary_set: bool = False
    summary_depth: int | None = None
    has_content: bool = False
    contents: list[str] = field(default_factory=list)
    link: str | None = None
    published: str = ""
    published_depth: int | None = None
    updated: str = ""
    updated_depth: int | None = None
    authors: list[str] = field(default_factory=list)
    author_alias: int | None = None  # see _author
    has_author_detail: bool = False
    tags: list[str] = field(default_factory=list)
    thumbnail: str | None = None
    media_image: str | None = None
    enclosure_image: str | None = None
    comments: str = ""
    replies: str | None = None


def _deeper(stored_at: int | None, depth: int) -> bool:
    """feedparser keeps a value found higher up over one found deeper inside the entry."""
    return stored_at is not None and depth > stored_at


class _FastParser:
    """One pass over an lxml tree of an RSS 2.0, RSS 1.0 or Atom 1.0 document."""

    def __init__(self, url: str, content_type: str | None) -> None:
        self.url = url
        self.content_type = content_type
        self.guess_html = True  # RSS titles may be HTML; Atom says what its text is
        self.content = b""
        self.uses_xml_base: bool | None = None  # found out on the first relative URL

    # -- document ------------------------------------------------------------------------

    def parse(self, content: bytes) -> ParsedFeed:
        self.content = content
        _check_safe(content)
        _check_encoding(content, self.content_type)
        try:
            root = etree.fromstring(content, _xml_parser(), base_url=self.url or None)
        except etree.XMLSyntaxError as exc:
            raise _Decline(f"not well-formed XML: {exc}") from None
        if isinstance(root.tag, str) and root.tag.rpartition("}")[2].lower() == "html":
            raise FeedError(_html_page_message(content, self.url))
        if root.getroottree().docinfo.doctype:  # _check_safe should have caught it
            raise _Decline("document has a DOCTYPE")
        channel, items = self._layout(root)
        title, link = self._feed_info(channel)
        entries = [self._entry(item) for item in items]
        return ParsedFeed(title=title, link=link, entries=entries, parser="fast")

    def _layout(self, root: etree._Element) -> tuple[etree._Element, list[etree._Element]]:
        """The element holding feed-level data and the entry elements, by dialect."""
        tag = root.tag if isinstance(root.tag, str) else ""
        local = tag.rpartition("}")[2].lower()
        if tag == f"{{{_ATOM}}}feed":
            self.guess_html = False
            return root, [c for c in root if _key(c.tag) == "entry"]
        if tag in ("rss", f"{{{_RDF}}}RDF") or (local == "rss" and _key(tag) == "rss"):
            channel = next((c for c in root if _key(c.tag) == "channel"), None)
            if channel is None:
                raise _Decline("no <channel>")
            items = [c for c in channel if _key(c.tag) == "item"]
            items += [c for c in root if _key(c.tag) == "item"]
            return channel, items
        raise _Decline(f"unusual root element <{tag}>")

    def _base(self, element: etree._Element) -> str:
        """The base URL of ``element``. Only documents that use xml:base pay for looking it
        up element by element, and only once a relative URL needs it."""
        if self.uses_xml_base is None:
            self.uses_xml_base = _XML_BASE in self.content
        if self.uses_xml_base:
            return element.base or self.url
        return self.url

    def _feed_info(self, channel: etree._Element) -> tuple[str, str | None]:
        entry = _Entry()  # the same rules as in an entry, on the channel's own children
        for child in channel:
            key = _key(child.tag)
            if key in ("title", "dc:title"):
                self._title(entry, child, 0)
            elif key == "link":
                self._link(entry, child, 0)
            elif key in ("id", "guid"):  # a permalink id stands in for a missing link
                self._guid(entry, child, 0)
        return _plain(entry.title, entry.title_type), entry.link or None

    # -- entries -------------------------------------------------------------------------

    def _entry(self, item: etree._Element) -> FeedEntry:
        entry = _Entry()
        about = item.get(_RDF_ABOUT)
        if about:
            entry.id = about
        self._walk(item, entry, 0)
        summary = entry.summary
        if not summary.strip():
            summary = next((c for c in entry.contents if c.strip()), "")
        published = parse_date(entry.published)
        updated = parse_date(entry.updated)
        return FeedEntry(
            id=entry.id or entry.link or "",
            title=_plain(entry.title, entry.title_type),
            link=entry.link or None,
            summary=summary,
            published=published or updated,
            updated=updated,
            authors=_unique(entry.authors),
            tags=_unique(entry.tags),
            image=entry.thumbnail or entry.media_image or entry.enclosure_image,
            comments=entry.comments or entry.replies,
        )

    def _walk(self, parent: etree._Element, entry: _Entry, depth: int) -> None:
        for child in parent:
            handler = _TAG_HANDLERS.get(child.tag, _UNSEEN)
            if handler is _UNSEEN:
                handler = _tag_handler(child.tag)
            if handler is not None:
                handler(self, entry, child, depth)

    def _text(self, element: etree._Element) -> str:
        if len(element):
            raise _Decline(f"markup inside <{_key(element.tag)}>")
        text = element.text
        return text.strip() if text else ""

    def _construct(self, element: etree._Element, default_type: str) -> tuple[str, str]:
        """A text construct's value and type (text/plain or text/html); decline others."""
        content_type = default_type
        attrib = element.attrib
        if attrib:  # most text elements have none
            if "mode" in attrib or "src" in attrib:
                raise _Decline(f"<{_key(element.tag)}> with mode or src")
            declared = attrib.get("type")
            if declared is not None:
                content_type = _map_content_type(declared)
        if content_type not in ("text/plain", "text/html"):
            raise _Decline(f"{content_type} content in <{_key(element.tag)}>")
        value = self._text(element)
        if self.guess_html and content_type == "text/plain" and _looks_like_html(value):
            content_type = "text/html"
        if content_type == "text/html" and value and _has_relative_url(value):
            value = _resolve_html(value, self._base(element))
        return _fix_text(value), content_type

    def _resolve(self, element: etree._Element, uri: str) -> str:
        if not uri or _plainly_absolute(uri):
            return uri  # no base needed
        return _urljoin(self._base(element), uri)

    # -- element handlers (feedparser's semantics, see its namespaces/_base.py) ----------

    def _title(
        self, entry: _Entry, element: etree._Element, depth: int, media: bool = False
    ) -> None:
        value, content_type = self._construct(element, "text/plain")
        # The first non-empty title wins over later ones as deep or deeper.
        skipped = -1 < entry.title_seen <= depth
        if not skipped and not _deeper(entry.title_depth, depth):
            entry.title, entry.title_type, entry.title_depth = value, content_type, depth
        if value and not media:
            entry.title_seen = depth

    def _media_title(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        self._title(entry, element, depth, media=True)

    def _store_summary(self, entry: _Entry, value: str, content_type: str, depth: int) -> None:
        if not _deeper(entry.summary_depth, depth):
            entry.summary, entry.summary_depth = _as_html(value, content_type), depth
        entry.summary_set = True

    def _description(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        # A second description-like element after a summary counts as content.
        if entry.summary_set and not entry.has_content:
            self._content(entry, element, depth)
            return
        self._store_summary(entry, *self._construct(element, "text/html"), depth)

    def _summary(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        if entry.summary_set and not entry.has_content:
            self._content(entry, element, depth)
            return
        self._store_summary(entry, *self._construct(element, "text/plain"), depth)

    def _abstract(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        self._store_summary(entry, *self._construct(element, "text/plain"), depth)

    def _content(
        self, entry: _Entry, element: etree._Element, depth: int, default_type: str = "text/plain"
    ) -> None:
        entry.has_content = True
        value, content_type = self._construct(element, default_type)
        value = _as_html(value, content_type)
        entry.contents.append(value)
        if not entry.summary_set:  # content stands in for a missing summary
            entry.summary, entry.summary_set = value, True

    def _encoded(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        self._content(entry, element, depth, "text/html")

    def _link(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        attrib = element.attrib
        href = attrib.get("href")
        if "url" in attrib or "uri" in attrib:  # feedparser prefers these spellings
            href = attrib.get("url", attrib.get("uri", href)) or href
        if href is None:
            # RSS: the URL is the element's text. (feedparser 6.0 also took the text of a
            # <link rel="enclosure">; later versions do not, and neither do we.)
            if attrib.get("rel", "alternate").lower() != "alternate":
                return
            link = _fix_text(self._resolve(element, self._text(element)))
            if "&" in link:
                link = re.sub(r"&([A-Za-z0-9_]+);", r"&\g<1>", link.replace("&amp;", "&"))
            entry.link = link
            return
        if len(element):  # feedparser also reads what a link holds (media:content ...)
            self._walk(element, entry, depth + 1)
        rel = attrib.get("rel", "alternate").lower()
        declared = attrib.get("type")
        # Without a type a link is HTML (a rel="self" one is not, but it is never used).
        is_html = declared is None or _map_content_type(declared) in HTML_TYPES
        if rel == "alternate":
            if is_html:  # href="" is the base URL itself
                entry.link = (
                    href if _plainly_absolute(href) else _urljoin(self._base(element), href)
                )
        elif rel == "replies":
            if is_html and entry.replies is None:
                entry.replies = self._resolve(element, href)
        elif rel == "enclosure" and declared and declared.lower().startswith("image/"):
            entry.enclosure_image = entry.enclosure_image or self._resolve(element, href)

    def _guid(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        permalink = "true"
        if element.attrib:
            for name, value in element.attrib.items():
                if name.lower() == "ispermalink":
                    permalink = value
        is_link = permalink == "true"
        value = self._text(element)
        if is_link:
            value = self._resolve(element, value)
        value = _fix_text(value)
        if not _deeper(entry.id_depth, depth):
            entry.id, entry.id_depth = value, depth
        if is_link and entry.link is None:
            entry.link = value

    def _published(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        if entry.published_depth is None or depth <= entry.published_depth:
            entry.published, entry.published_depth = self._text(element), depth

    def _updated(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        if entry.updated_depth is None or depth <= entry.updated_depth:
            entry.updated, entry.updated_depth = self._text(element), depth

    def _author(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        if len(element):  # Atom person construct: <name>, <email>, <uri>
            if (element.text or "").strip():
                raise _Decline("text mixed with elements in <author>")
            name = None
            for child in element:
                tag = child.tag
                key = _KEYS.get(tag) or _key(tag)
                if key == "name":
                    name = self._text(child)
                if key in _PERSON_PARTS:
                    entry.has_author_detail = True
            if name is not None and entry.author_alias is not None:
                # feedparser also writes a person's name into the record of the entry's
                # first text author, when that record became its author_detail: mirror it.
                entry.authors[entry.author_alias] = name
            entry.authors.append(name or "")
        else:
            text = _fix_text(self._text(element))
            if text and not entry.has_author_detail:
                entry.author_alias, entry.has_author_detail = len(entry.authors), True
            entry.authors.append(_author_name(text))

    def _category(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        term = element.get("term") or (self._text(element) if not len(element) else "")
        if term:
            entry.tags.append(_fix_text(term.strip()))

    def _comments(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        entry.comments = _fix_text(self._resolve(element, self._text(element)))

    def _thumbnail(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        url = element.get("url")
        if url and entry.thumbnail is None:
            entry.thumbnail = self._resolve(element, url.strip())

    def _media_content(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        url = element.get("url")
        is_image = element.get("medium") == "image" or (
            element.get("type") or ""
        ).lower().startswith("image/")
        if url and is_image and entry.media_image is None:
            entry.media_image = self._resolve(element, url.strip())
        if len(element):  # media:content may hold its own thumbnail and title
            self._walk(element, entry, depth + 1)

    def _enclosure(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        url = element.get("url") or element.get("href")
        if url and (element.get("type") or "").lower().startswith("image/"):
            entry.enclosure_image = entry.enclosure_image or self._resolve(element, url.strip())

    def _group(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        self._walk(element, entry, depth + 1)

    def _xhtml_body(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        raise _Decline("inline XHTML body")

    def _other(self, entry: _Entry, element: etree._Element, depth: int) -> None:
        """A core element we do not read: fine, unless feedparser would look inside it
        (an ``<image>`` in an entry, with its own ``<id>`` ...)."""
        if len(element):
            raise _Decline(f"unexpected <{_key(element.tag)}> element inside an entry")


# What an Atom person construct may hold.
_PERSON_PARTS = frozenset({"name", "email", "uri", "url", "homepage"})

# Core elements whose children feedparser keeps apart from the entry's own fields.
_OPAQUE = frozenset({"source", "contributor"})

_HANDLERS = {
    "title": _FastParser._title,
    "dc:title": _FastParser._title,
    "media:title": _FastParser._media_title,
    "description": _FastParser._description,
    "dc:description": _FastParser._description,
    "media:description": _FastParser._description,
    "summary": _FastParser._summary,
    "itunes:summary": _FastParser._summary,
    "abstract": _FastParser._abstract,
    "content": _FastParser._content,
    "content:encoded": _FastParser._encoded,
    "fullitem": _FastParser._encoded,
    "body": _FastParser._xhtml_body,
    "xhtml:body": _FastParser._xhtml_body,
    "link": _FastParser._link,
    "guid": _FastParser._guid,
    "id": _FastParser._guid,
    "pubdate": _FastParser._published,
    "published": _FastParser._published,
    "issued": _FastParser._published,
    "dcterms:issued": _FastParser._published,
    "updated": _FastParser._updated,
    "modified": _FastParser._updated,
    "dc:date": _FastParser._updated,
    "dcterms:modified": _FastParser._updated,
    "author": _FastParser._author,
    "dc:creator": _FastParser._author,
    "dc:author": _FastParser._author,
    "itunes:author": _FastParser._author,
    "category": _FastParser._category,
    "dc:subject": _FastParser._category,
    "media:category": _FastParser._category,
    "comments": _FastParser._comments,
    "media:thumbnail": _FastParser._thumbnail,
    "media:content": _FastParser._media_content,
    "media:group": _FastParser._group,
    "enclosure": _FastParser._enclosure,
}

# Raw lxml tags ("{ns}local") straight to their handlers, learnt as documents are read.
_TAG_HANDLERS: dict[str, Any] = {}


def _tag_handler(tag: Any) -> Any:
    """The handler for an element's tag: None to skip it, ``_other`` for core elements with
    no handler of their own (their insides must be checked)."""
    key = _key(tag)
    handler = _HANDLERS.get(key) if key else None
    if handler is None and key and ":" not in key and key not in _OPAQUE:
        handler = _FastParser._other
    if isinstance(tag, str) and len(_TAG_HANDLERS) < 10_000:
        _TAG_HANDLERS[tag] = handler
    return handler
