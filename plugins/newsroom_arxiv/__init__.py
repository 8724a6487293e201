"""newsroom plugin: arxiv — the newest papers in some categories, from the arXiv API.

::

    [[sources]]
    name = "papers"
    plugin = "arxiv"
    categories = ["cs.AI", "cs.CL"]
    query = 'abs:"language model"'   # optional, ANDed with the categories
    max_results = 50
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator, model_validator

from newsroom import FetchContext, Item, Options, Source, SourceError, hookimpl
from newsroom.core.errors import FetchError

from .atom import api_error, feed_items, parse_feed

if TYPE_CHECKING:
    from newsroom.core.registry import Register

# arXiv's category names: "cs.AI", "math.AT", "hep-th", "q-bio.NC", and "cs.*" for a whole
# archive. Checking the shape catches a query pasted into `categories` ("cs.AI OR cs.LG").
_CATEGORY = re.compile(r"^[a-z][a-z-]*(\.([A-Za-z][A-Za-z-]*|\*))?$")


def search_query(categories: list[str], query: str | None) -> str:
    """``cat:cs.AI OR cat:cs.CL``, ANDed with ``query`` (each part parenthesised)."""
    cats = " OR ".join(f"cat:{c}" for c in categories)
    if cats and query:
        return f"({cats}) AND ({query})"
    return cats or query or ""


class ArxivSource(Source):
    """The newest submissions matching categories and/or a query, newest first."""

    name = "arxiv"
    kind = "paper"
    description = "Newest papers in arXiv categories or matching a search query."

    class Options(Options):
        categories: list[str] = Field(default_factory=list)
        """arXiv categories, any of which matches: ``["cs.AI", "cs.CL"]``."""
        query: str | None = None
        """An arXiv search query (``ti:``, ``abs:``, ``au:`` ...), ANDed with the categories."""
        max_results: int = Field(50, ge=1, le=2000)
        base_url: str = "https://export.arxiv.org"
        delay: float = Field(3.0, ge=0)
        """Seconds between requests to the API; arXiv asks for 3."""

        @field_validator("categories")
        @classmethod
        def _known_shape(cls, value: list[str]) -> list[str]:
            bad = [c for c in value if not _CATEGORY.match(c)]
            if bad:
                raise ValueError(
                    f"not an arXiv category: {', '.join(map(repr, bad))} "
                    "(expected names like 'cs.AI' or 'hep-th')"
                )
            return value

        @model_validator(mode="after")
        def _something_to_search(self) -> ArxivSource.Options:
            if not self.categories and not (self.query or "").strip():
                raise ValueError("give `categories`, `query`, or both")
            return self

    options: Options

    def params(self) -> dict[str, Any]:
        """The query string of the API request."""
        opts = self.options
        return {
            "search_query": search_query(opts.categories, (opts.query or "").strip() or None),
            "start": 0,
            "max_results": opts.max_results,
            "sortBy": "submittedDate",
            "sortOrder": "descending",
        }

    async def fetch(self, ctx: FetchContext) -> list[Item]:
        url = self.options.base_url.rstrip("/") + "/api/query"
        ctx.progress("querying the arXiv API")
        try:
            response = await ctx.http.get(
                url, params=self.params(), min_interval=self.options.delay
            )
        except FetchError as exc:
            # arXiv explains a bad request (HTTP 400) in an Atom error feed: show its words.
            raise _explained(exc) from None
        feed = parse_feed(response.content, response.url)
        message = api_error(feed)
        if message is not None:
            raise SourceError(f"arXiv API error: {message}", url=response.url)
        items, skipped = feed_items(feed)
        if skipped:
            ctx.warn(f"skipped {skipped} arXiv entries without an id or title", response.url)
        return items


def _explained(exc: FetchError) -> SourceError:
    """``exc`` with arXiv's own message when the error response is an error feed."""
    if not exc.body:
        return exc
    try:
        message = api_error(parse_feed(exc.body, exc.url or ""))
    except SourceError:
        return exc
    if message is None:
        return exc
    return SourceError(f"arXiv API error: {message} ({exc.message})", url=exc.url)


@hookimpl
def register_sources(register: Register[Any]) -> None:
    register(ArxivSource)
