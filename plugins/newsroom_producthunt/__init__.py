"""newsroom plugin: producthunt — launches on Product Hunt.

Without a token it reads the public Atom feed (titles, taglines, makers). With a token (an
API v2 developer token) it asks the GraphQL API for the day's posts ordered by votes, which
adds votes, comments, topics and thumbnails::

    [[sources]]
    name = "products"
    plugin = "producthunt"
    token = { "$env" = "PRODUCTHUNT_TOKEN" }   # optional; the variable is also read if unset
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr

from newsroom import FetchContext, Item, Options, Source, SourceError, hookimpl, secret_value
from newsroom.core.errors import FetchError

from . import feed, graphql

if TYPE_CHECKING:
    from newsroom.core.registry import Register

TOKEN_VARIABLE = "PRODUCTHUNT_TOKEN"


class ProductHuntSource(Source):
    """Today's launches: from the GraphQL API with a token, else from the public feed."""

    name = "producthunt"
    kind = "product"
    description = "Product Hunt launches (feed, or the API's top posts with a token)."

    class Options(Options):
        base_url: str = "https://www.producthunt.com"
        """Where the public feed is read from (``{base_url}/feed``)."""
        api_url: str = "https://api.producthunt.com/v2/api/graphql"
        token: SecretStr | None = None
        """An API v2 developer token; when unset, $PRODUCTHUNT_TOKEN is used if present."""
        limit: int = Field(20, ge=1, le=50)
        """How many posts to ask the API for (the feed always has about 50)."""
        day: Literal["today", "yesterday"] = "today"
        """Which Product Hunt day (Pacific time) the API is asked about. ``yesterday`` gives
        final vote counts to a newsletter sent early in the morning in Asia or Europe."""

    options: Options

    def token(self) -> str | None:
        token = secret_value(self.options.token) or os.environ.get(TOKEN_VARIABLE)
        return token.strip() if token and token.strip() else None

    async def fetch(self, ctx: FetchContext) -> list[Item]:
        token = self.token()
        if token:
            return await self._fetch_api(ctx, token)
        return await self._fetch_feed(ctx)

    async def _fetch_feed(self, ctx: FetchContext) -> list[Item]:
        url = self.options.base_url.rstrip("/") + "/feed"
        ctx.progress("reading the Product Hunt feed")
        response = await ctx.http.get(url)
        items, skipped = feed.parse_feed(response.content, url)
        if skipped:
            ctx.warn(f"skipped {skipped} feed entries without a title or link", url)
        return items

    async def _fetch_api(self, ctx: FetchContext, token: str) -> list[Item]:
        url = self.options.api_url
        after, before = graphql.day_bounds(ctx.now, self.options.day)
        ctx.progress("asking the Product Hunt API for today's posts")
        try:
            response = await ctx.http.post_json(
                url,
                graphql.request_body(self.options.limit, after, before),
                headers={"Authorization": f"Bearer {token}"},
            )
        except FetchError as exc:
            raise _explained(exc) from None
        try:
            payload = response.json()
        except ValueError:
            raise SourceError("the Product Hunt API did not answer with JSON", url=url) from None
        message = graphql.error_message(payload)
        nodes = graphql.posts(payload)
        if nodes is None:
            raise SourceError(
                f"Product Hunt API error: {message or 'no posts in the answer'}", url=url
            )
        if message:
            ctx.warn(f"Product Hunt API reported: {message}", url)  # partial data still usable
        items = [graphql.node_to_item(node) for node in nodes]
        return [item for item in items if item is not None]


def _explained(exc: FetchError) -> SourceError:
    """``exc`` with the API's own message when the error body has one (401: bad token)."""
    try:
        message = graphql.error_message(json.loads(exc.body)) if exc.body else None
    except ValueError:
        message = None
    if exc.status == 401:
        hint = f"check the token (${TOKEN_VARIABLE})"
        return SourceError(
            f"Product Hunt API refused the token: {message or exc.message}; {hint}", url=exc.url
        )
    if message:
        return SourceError(f"Product Hunt API error: {message} ({exc.message})", url=exc.url)
    return exc


@hookimpl
def register_sources(register: Register[Any]) -> None:
    register(ProductHuntSource)
