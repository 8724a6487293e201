"""newsroom plugin: hackernews — stories from Hacker News, with points and comment counts.

::

    [[sources]]
    name = "hn"
    plugin = "hackernews"
    stories = "top"          # top, best, new, ask or show
    max_items = 30
    min_points = 100

    [[sources]]
    name = "hn-ai"
    plugin = "hackernews"
    min_points = 50
    search = { query = "LLM", hours = 48 }   # the search API instead of a story list

A story list comes from the official Firebase API: the list of ids, then each story on its
own, a few at a time (``concurrency``). A search asks the Algolia search API once. Either
way every item carries ``points`` and ``comments`` in its metrics, and a link to its
discussion.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from newsroom import FetchContext, Item, Options, Source, SourceError, hookimpl
from newsroom.core.errors import FetchError

from .stories import NotAStory, Story, Unlisted, from_hit, from_item, hits, story_ids

if TYPE_CHECKING:
    from newsroom.core.registry import Register

StoryList = Literal["top", "best", "new", "ask", "show"]


class Search(Options):
    """A search of the Algolia API (``search = { ... }``)."""

    query: str = ""
    """Words to look for; empty: every story with the tags."""
    tags: str = "story"
    """Algolia tags: ``story``, ``show_hn``, ``ask_hn``, ``front_page``; ``(story,show_hn)``
    for either."""
    hours: float = Field(48.0, gt=0)
    """Only stories posted in the last hours."""


class HackerNewsSource(Source):
    """Stories from Hacker News: a story list, or a search; with points and comments."""

    name = "hackernews"
    kind = "discussion"
    description = "Hacker News stories (top, best, new, ask, show, or a search) with points."

    class Options(Options):
        stories: StoryList = "top"
        """Which list of the official API: top, best, new, ask or show."""
        max_items: int = Field(30, ge=1, le=500)
        min_points: int = Field(0, ge=0)
        """Leave out stories with fewer points."""
        scan: int = Field(100, ge=1, le=500)
        """How many ids of the list to look at, at most, to find ``max_items`` stories with
        ``min_points`` (each one is a request)."""
        concurrency: int = Field(8, ge=1, le=32)
        """Story requests in flight at once."""
        link: Literal["article", "discussion"] = "article"
        """What an item links to: the story's article (its discussion for Ask HN), or
        always the discussion on Hacker News."""
        search: Search | None = None
        """Ask the search API instead of reading a story list."""
        base_url: str = "https://hacker-news.firebaseio.com/v0"
        """The official API."""
        search_url: str = "https://hn.algolia.com/api/v1"
        """The search API."""
        site_url: str = "https://news.ycombinator.com"
        """Where discussion links point."""

    options: Options

    async def fetch(self, ctx: FetchContext) -> list[Item]:
        if self.options.search is not None:
            stories = await self._search(ctx, self.options.search)
        else:
            stories = await self._list(ctx)
        return [self.to_item(story, rank) for rank, story in enumerate(stories, start=1)]

    # -- the official API -----------------------------------------------------------------

    async def _list(self, ctx: FetchContext) -> list[Story]:
        opts = self.options
        base = opts.base_url.rstrip("/")
        url = f"{base}/{opts.stories}stories.json"
        ctx.progress(f"reading the {opts.stories} stories")
        response = await ctx.http.get(url)
        try:
            ids = story_ids(response.json())
        except ValueError as exc:  # json.JSONDecodeError and NotAStory are ValueErrors
            raise SourceError(f"the story list is not what the API sends: {exc}", url=url) from None
        ids = ids[: opts.scan]
        kept: list[Story] = []
        failures: list[str] = []
        low = 0
        position = 0
        while position < len(ids) and len(kept) < opts.max_items:
            # Without a points threshold every story counts: ask for no more than are missing.
            size = opts.concurrency
            if opts.min_points == 0:
                size = min(size, opts.max_items - len(kept))
            batch = ids[position : position + size]
            position += len(batch)
            ctx.progress(f"reading stories {position}/{len(ids)}")
            results = await asyncio.gather(*(self._story(ctx, base, i) for i in batch))
            for story_id, result in zip(batch, results, strict=True):
                if isinstance(result, str):
                    failures.append(f"{story_id}: {result}")
                elif result is None:
                    continue
                elif result.points < opts.min_points:
                    low += 1
                else:
                    kept.append(result)
        if failures and not kept and not low:
            raise SourceError(
                f"no story could be read ({len(failures)} failed; {_first(failures)})", url=url
            )
        if failures:
            ctx.warn(
                f"{len(failures)} of {position} stories could not be read ({_first(failures)})",
                url,
            )
        if not kept and low:
            ctx.warn(
                f"none of the {position} stories looked at has {opts.min_points} points or more",
                url,
            )
        return kept[: opts.max_items]

    async def _story(self, ctx: FetchContext, base: str, story_id: int) -> Story | str | None:
        """The story, ``None`` when it is not one to list, or why it could not be read."""
        url = f"{base}/item/{story_id}.json"
        try:
            response = await ctx.http.get(url)
        except FetchError as exc:
            return exc.message
        try:
            data = response.json()
        except ValueError:
            return "the answer is not JSON"
        try:
            return from_item(data)
        except Unlisted:
            return None  # jobs, deleted and dead stories are left out quietly
        except NotAStory as exc:
            return f"not a story: {exc}"

    # -- the search API -------------------------------------------------------------------

    async def _search(self, ctx: FetchContext, search: Search) -> list[Story]:
        opts = self.options
        url = opts.search_url.rstrip("/") + "/search"
        since = int((ctx.now.timestamp()) - search.hours * 3600)
        numeric = [f"created_at_i>{since}"]
        if opts.min_points:
            numeric.append(f"points>={opts.min_points}")
        params = {
            "query": search.query,
            "tags": search.tags,
            "numericFilters": ",".join(numeric),
            "hitsPerPage": str(min(opts.max_items, 1000)),
        }
        ctx.progress("searching Hacker News")
        response = await ctx.http.get(url, params=params)
        try:
            found = hits(response.json())
        except ValueError as exc:
            raise SourceError(
                f"the search answer is not what the API sends: {exc}", url=url
            ) from None
        stories: list[Story] = []
        skipped = 0
        for hit in found:
            try:
                story = from_hit(hit)
            except NotAStory:
                skipped += 1
                continue
            # The API applies the filter too; a mirror or an older answer may not have.
            if story.points >= opts.min_points:
                stories.append(story)
        if skipped:
            ctx.warn(f"skipped {skipped} search hit(s) without an id or a title", url)
        return stories[: opts.max_items]

    # -- items ------------------------------------------------------------------------------

    def discussion_url(self, story_id: int) -> str:
        return f"{self.options.site_url.rstrip('/')}/item?id={story_id}"

    def to_item(self, story: Story, rank: int) -> Item:
        discussion = self.discussion_url(story.id)
        url = story.url if (story.url and self.options.link == "article") else discussion
        # The thread and the article both: the item's own link is one, its links the other
        # (``Item.link_kind`` tells themes which is which).
        links = {"discussion": discussion}
        if story.url and url != story.url:
            links["article"] = story.url
        return Item(
            url=url,
            title=story.title,
            summary=story.text,
            kind="discussion",
            publisher="Hacker News",
            published=story.published,
            authors=[story.author] if story.author else [],
            metrics={"points": float(story.points), "comments": float(story.comments)},
            links=links,
            extra={"hn_id": story.id, "hn_type": story.type, "rank": rank},
        )


def _first(failures: list[str], count: int = 3) -> str:
    shown = "; ".join(failures[:count])
    return shown + (f"; and {len(failures) - count} more" if len(failures) > count else "")


@hookimpl
def register_sources(register: Register[Any]) -> None:
    register(HackerNewsSource)
