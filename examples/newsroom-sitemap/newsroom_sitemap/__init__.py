"""newsroom plugin: sitemap — new pages from a site's XML sitemap, for sites without a feed.

::

    [[sources]]
    name = "press"
    plugin = "sitemap"
    url = "https://example.org/news-sitemap.xml"
    include = ["/news/"]
    max_items = 20

Reads a sitemap (https://www.sitemaps.org/protocol.html) or a sitemap index, gzipped or
not. Google News sitemaps (``<news:news>``) give each page its title, publication date and
publisher; in a plain sitemap the title is made from the page's address and the date is its
``<lastmod>``. Items come newest first.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from lxml import etree
from pydantic import Field

from newsroom import FetchContext, Item, Options, Source, SourceError, hookimpl

if TYPE_CHECKING:
    from newsroom.core.registry import Register

#: The hook API versions this plugin was written for.
NEWSROOM_API = ">=1.0,<2"

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
#: The protocol's own limit for one uncompressed sitemap file.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=False)


@dataclass
class Entry:
    """One ``<url>`` (or, in an index, one ``<sitemap>``) of a sitemap."""

    loc: str
    lastmod: dt.datetime | None = None
    title: str = ""
    publisher: str = ""
    language: str = ""


def parse_date(text: str | None) -> dt.datetime | None:
    """A W3C datetime (``2026-02-14``, ``2026-02-14T06:00:00+09:00``) as an aware datetime."""
    if not text or not text.strip():
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def inflate(content: bytes) -> bytes:
    """The body itself, or its gunzipped form for a ``.xml.gz`` file (bounded)."""
    if not content.startswith(b"\x1f\x8b"):
        return content
    inflater = zlib.decompressobj(wbits=31)
    data = inflater.decompress(content, MAX_SITEMAP_BYTES)
    if inflater.unconsumed_tail:
        raise SourceError(f"sitemap is larger than {MAX_SITEMAP_BYTES // 2**20} MB unpacked")
    return data


def parse_sitemap(content: bytes, url: str) -> tuple[bool, list[Entry]]:
    """``(is_index, entries)`` of a sitemap document; SourceError when it is not one."""
    try:
        root = etree.fromstring(inflate(content), _PARSER)
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"not an XML sitemap: {exc}", url=url) from None
    if root.tag not in (f"{SITEMAP}urlset", f"{SITEMAP}sitemapindex"):
        raise SourceError(
            f"not a sitemap (the document is <{etree.QName(root).localname}>)", url=url
        )
    is_index = root.tag == f"{SITEMAP}sitemapindex"
    entries = []
    for node in root.iterchildren(f"{SITEMAP}sitemap" if is_index else f"{SITEMAP}url"):
        loc = (node.findtext(f"{SITEMAP}loc") or "").strip()
        if not loc:
            continue
        entry = Entry(loc, parse_date(node.findtext(f"{SITEMAP}lastmod")))
        news = node.find(f"{NEWS}news")
        if news is not None:
            entry.title = " ".join((news.findtext(f"{NEWS}title") or "").split())
            entry.publisher = (news.findtext(f"{NEWS}publication/{NEWS}name") or "").strip()
            entry.language = (news.findtext(f"{NEWS}publication/{NEWS}language") or "").strip()
            entry.lastmod = parse_date(news.findtext(f"{NEWS}publication_date")) or entry.lastmod
        entries.append(entry)
    return is_index, entries


def title_from_url(url: str) -> str:
    """A readable title from a page address: ``/2026/02/new-model-released.html`` → "New
    model released"; an address without words gives its host and path."""
    parts = urlsplit(url)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    for segment in reversed(segments):
        words = re.sub(r"\.(html?|php|aspx?)$", "", segment)
        words = " ".join(re.split(r"[-_+\s]+", words)).strip()
        if re.search(r"[^\W\d]", words):  # has a letter, not only digits and ids
            return words[:1].upper() + words[1:]
    return parts.netloc + parts.path


def _newest_first(entries: list[Entry]) -> list[Entry]:
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(entries, key=lambda e: e.lastmod or oldest, reverse=True)


class SitemapSource(Source):
    """New pages from a site's XML sitemap (or sitemap index); titles from Google News
    sitemaps, or made from the page's address."""

    name = "sitemap"
    kind = "article"
    description = (
        "New pages from a site's XML sitemap or sitemap index (gzipped or not); "
        "Google News sitemaps give titles, dates and publishers."
    )

    class Options(Options):
        url: str
        """The sitemap or sitemap index, e.g. ``https://example.org/sitemap.xml``."""
        max_items: int = Field(30, ge=1, le=1000)
        """Items kept, newest first."""
        max_sitemaps: int = Field(3, ge=1, le=50)
        """Sitemaps read from a sitemap index, the most recently modified first."""
        include: list[str] = Field(default_factory=list)
        """Only pages whose path starts with one of these, e.g. ``["/blog/"]``."""
        kind: str = "article"
        """Kind of the items (for sections' ``match``)."""
        publisher: str = ""
        """Shown as the items' publisher (default: the news sitemap's, or the site's host)."""

    async def fetch(self, ctx: FetchContext) -> list[Item]:
        opts = self.options
        response = await ctx.http.get(opts.url)
        is_index, entries = parse_sitemap(response.content, opts.url)
        if is_index:
            entries = await self._read_index(ctx, entries)
        if opts.include:
            entries = [e for e in entries if urlsplit(e.loc).path.startswith(tuple(opts.include))]
        items = []
        for entry in _newest_first(entries)[: opts.max_items]:
            if not entry.loc.startswith(("http://", "https://")):
                ctx.warn(f"skipped a page whose address is not http(s): {entry.loc!r}", opts.url)
                continue
            items.append(
                Item(
                    url=entry.loc,
                    title=entry.title or title_from_url(entry.loc),
                    kind=opts.kind,
                    published=entry.lastmod,
                    publisher=opts.publisher or entry.publisher or urlsplit(entry.loc).netloc,
                )
            )
        return items

    async def _read_index(self, ctx: FetchContext, children: list[Entry]) -> list[Entry]:
        """The pages of the newest ``max_sitemaps`` sitemaps an index lists."""
        entries: list[Entry] = []
        failed = 0
        chosen = _newest_first(children)[: self.options.max_sitemaps]
        for child in chosen:
            try:
                response = await ctx.http.get(child.loc)
                nested, found = parse_sitemap(response.content, child.loc)
            except SourceError as exc:
                failed += 1
                ctx.warn(exc.message, child.loc)
                continue
            if nested:
                ctx.warn("a sitemap index inside a sitemap index is not followed", child.loc)
                continue
            entries.extend(found)
        if chosen and failed == len(chosen):
            raise SourceError("no sitemap listed in the index could be read", url=self.options.url)
        return entries


@hookimpl
def register_sources(register: Register[type[Source]]) -> None:
    register(SitemapSource)
