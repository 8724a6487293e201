"""newsroom plugin: news — articles and threads from RSS, Atom and JSON feeds.

::

    [[sources]]
    name = "tech"
    plugin = "news"
    feeds = [
        "https://hnrss.org/frontpage",
        { url = "https://www.reddit.com/r/LocalLLaMA/top.rss?t=day", name = "r/LocalLLaMA",
          kind = "discussion" },
    ]
    max_items_per_feed = 20

Feeds are fetched concurrently and parsed by :func:`newsroom.collect.feeds.parse_feed`. A feed that
fails (HTTP error, an HTML page instead of a feed, a body too large ...) is reported as a
warning and the others go on; only when every feed fails does the source fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, field_validator

from newsroom import FetchContext, Item, Options, Source, SourceError, __version__, hookimpl
from newsroom.core.urls import is_safe_url

if TYPE_CHECKING:
    from newsroom.collect.feeds import FeedEntry
    from newsroom.collect.http import Response, ResultCache


class FeedSpec(Options):
    """One feed: its URL, and optionally a display name and an item kind of its own."""

    url: str
    name: str | None = None
    """Shown as the items' publisher instead of the feed's own title."""
    kind: str | None = None
    """The kind of this feed's items, instead of the source's ``kind``."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip()
        if not is_safe_url(value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value


@dataclass
class _FeedResult:
    """What became of one feed: its items, or why it failed."""

    spec: FeedSpec
    items: list[Item] = field(default_factory=list)
    error: str | None = None


class NewsSource(Source):
    """Items from a list of RSS/Atom/JSON feeds."""

    name = "news"
    kind = "article"
    description = "Articles or discussions from RSS, Atom and JSON feeds."

    class Options(Options):
        feeds: list[FeedSpec] = Field(min_length=1)
        """Feed URLs, or tables ``{ url, name?, kind? }``."""
        kind: str = "article"
        """Kind of the items: "article", or "discussion" for Reddit and Hacker News."""
        max_items_per_feed: int = Field(50, ge=1, le=1000)
        publisher: str | None = None
        """Publisher shown for every item, instead of each feed's name or title."""

        @field_validator("feeds", mode="before")
        @classmethod
        def _urls_as_specs(cls, value: Any) -> Any:
            if isinstance(value, list):
                return [{"url": v} if isinstance(v, str) else v for v in value]
            return value

    options: Options

    async def fetch(self, ctx: FetchContext) -> list[Item]:
        specs = self.options.feeds
        ctx.progress(f"reading {len(specs)} feed{'s' if len(specs) != 1 else ''}")
        results = await asyncio.gather(*(self._fetch_feed(spec, ctx) for spec in specs))
        failed = [r for r in results if r.error is not None]
        if len(failed) == len(results):
            raise SourceError(_all_failed(failed), url=specs[0].url if len(specs) == 1 else None)
        for result in failed:
            ctx.warn(f"feed {_label(result.spec)}: {result.error}", result.spec.url)
        return [item for result in results for item in result.items]

    async def _items(
        self, ctx: FetchContext, response: Response, base: str, spec: FeedSpec
    ) -> tuple[list[Item], int]:
        """The feed's items: from the result cache when this exact body was parsed before."""
        results: ResultCache | None = getattr(ctx.http, "results", None)
        content, content_type = response.content, response.headers.get("content-type")
        key = _result_key(base, content_type, spec, self.options)
        cached = results.recall_bytes(content, key) if results is not None else None
        if cached is not None:
            with contextlib.suppress(ValidationError):  # a damaged entry: parse again
                parsed = _Parsed.model_validate_json(cached)
                return parsed.items, parsed.skipped
        # Parsing is CPU work: off the event loop, so the other downloads go on.
        args = (content, base, content_type, spec, self.options)
        if ctx.cpu_processes:
            # A worker process sends back the cache's JSON, which loads several times faster
            # here than the same items would unpickle.
            data = await ctx.run_cpu(_parsed_json, *args)
            parsed = _Parsed.model_validate_json(data)
        else:
            parsed = await asyncio.to_thread(_parse, *args)
            data = parsed.model_dump_json().encode("utf-8") if results is not None else b""
        if results is not None:  # the cache is written here: workers never open it
            results.remember_bytes(content, key, data)
        return parsed.items, parsed.skipped

    async def _fetch_feed(self, spec: FeedSpec, ctx: FetchContext) -> _FeedResult:
        """Fetch and parse one feed; never raises, so one bad feed cannot sink the others."""
        try:
            response = await ctx.http.get(spec.url)
            # Relative links resolve against where the feed ended up after redirects, but
            # not against a mirror's address (the offline mirror serves every host).
            base = spec.url if getattr(ctx.http, "mirror", None) else (response.url or spec.url)
            items, skipped = await self._items(ctx, response, base, spec)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a one-line warning
            if not isinstance(exc, (SourceError, ValueError)):  # a bug: keep its traceback
                ctx.log.debug("feed %s failed", spec.url, exc_info=True)
            return _FeedResult(spec, error=_reason(exc))
        if skipped:
            ctx.warn(
                f"feed {_label(spec)}: skipped {skipped} "
                f"entr{'ies' if skipped != 1 else 'y'} without a link or title",
                spec.url,
            )
        elif not items:
            # A feed that parses but lists nothing is usually a moved or emptied feed.
            ctx.warn(f"feed {_label(spec)}: has no entries", spec.url)
        return _FeedResult(spec, items=items)


class _Parsed(BaseModel):
    """A parse result as the result cache keeps it (serialised by pydantic in one call)."""

    items: list[Item]
    skipped: int


def _result_key(
    base: str, content_type: str | None, spec: FeedSpec, options: NewsSource.Options
) -> str:
    """What a parse depends on besides the body: parser version, base URL, the declared
    Content-Type (its charset decides how a body without an XML declaration reads), options."""
    return (
        f"news4:{__version__}:{base}:{content_type}:{spec.model_dump_json()}:"
        f"{options.model_dump_json()}"
    )


def _parse(
    content: bytes, base: str, content_type: str | None, spec: FeedSpec, options: NewsSource.Options
) -> _Parsed:
    items, skipped = parse_items(content, base, content_type, spec, options)
    return _Parsed(items=items, skipped=skipped)


def _parsed_json(
    content: bytes, base: str, content_type: str | None, spec: FeedSpec, options: NewsSource.Options
) -> bytes:
    """:func:`parse_items` as the result cache's JSON (what a worker process sends back)."""
    return _parse(content, base, content_type, spec, options).model_dump_json().encode("utf-8")


def parse_items(
    content: bytes,
    base: str,
    content_type: str | None,
    spec: FeedSpec,
    options: NewsSource.Options,
) -> tuple[list[Item], int]:
    """Parse one feed into items.

    Returns the feed's first ``max_items_per_feed`` usable entries as items, and how many
    entries were skipped for lacking a link or a title.
    """
    # Imported here: loading the plugin (for `newsroom render`, say) need not load the parsers.
    from newsroom.collect.feeds import parse_feed

    feed = parse_feed(content, url=base, content_type=content_type)
    publisher = options.publisher or spec.name or feed.title or _host(spec.url)
    kind = spec.kind or options.kind
    items: list[Item] = []
    skipped = 0
    for entry in feed.entries:
        if len(items) >= options.max_items_per_feed:
            break
        if not entry.link or not entry.title:
            skipped += 1
            continue
        items.append(_item(entry, kind=kind, publisher=publisher, feed_url=spec.url))
    return items, skipped


# Reddit's feeds end each post with "submitted by /u/x <a href=...>[link]</a> [comments]":
# for a link post, [link] is the page the thread discusses.
_REDDIT_LINK = re.compile(r'<a href="(https?://[^"]+)">\[link\]</a>')
_REDDIT_HOSTS = re.compile(r"^https?://(?:[\w-]+\.)*(?:reddit\.com|redd\.it)(?:[:/]|$)", re.I)


def _links(entry: FeedEntry) -> dict[str, str]:
    """The comments link, and the article a Reddit link post discusses."""
    links = {"comments": entry.comments} if entry.comments else {}
    if "[link]</a>" in entry.summary:
        found = _REDDIT_LINK.search(entry.summary)
        if found:
            # html.unescape: the summary is HTML, so "&amp;" in the link is "&".
            article = html.unescape(found.group(1))
            if not _REDDIT_HOSTS.match(article) and article != entry.link:
                links["article"] = article
    return links


def _item(entry: FeedEntry, *, kind: str, publisher: str, feed_url: str) -> Item:
    assert entry.link is not None
    return Item(
        url=entry.link,
        title=entry.title,
        summary=entry.summary,
        kind=kind,
        publisher=publisher,
        published=entry.published,
        authors=entry.authors,
        tags=entry.tags,
        image=entry.image,
        links=_links(entry),
        extra={"feed": feed_url},
    )


def _label(spec: FeedSpec) -> str:
    return f"{spec.name!r} ({spec.url})" if spec.name else spec.url


def _host(url: str) -> str:
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


def _reason(exc: BaseException) -> str:
    """One line saying what went wrong, never a traceback."""
    if isinstance(exc, (SourceError, ValueError)):
        text = str(exc.message if isinstance(exc, SourceError) else exc)
    else:  # a bug or an unexpected library error: name it, briefly
        text = f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:299] + "…"


def _all_failed(failed: list[_FeedResult]) -> str:
    if len(failed) == 1:
        return f"the feed failed: {failed[0].error}"
    shown = "; ".join(f"{_label(r.spec)}: {r.error}" for r in failed[:3])
    more = f"; and {len(failed) - 3} more" if len(failed) > 3 else ""
    return f"all {len(failed)} feeds failed: {shown}{more}"


@hookimpl
def register_sources(register):  # type: ignore[no-untyped-def]
    register(NewsSource)
