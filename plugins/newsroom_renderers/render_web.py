"""The ``web`` renderer: the web edition as a site in ``<output>/site/`` (see :mod:`.site`).

Links between pages are relative and name ``index.html``, so the folder works opened from
disk (``file://``) and published under any path; the feed, the sitemap and canonical links
are absolute when ``base_url`` is set.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from newsroom import Edition, RenderContext, Renderer
from newsroom import Options as BaseOptions

from .common import environment
from .site import SiteBuilder, page_url

__all__ = ["WebRenderer", "page_url"]


class WebRenderer(Renderer):
    """Bring the site up to date: this edition's page, its neighbours', the front page, the
    archive, the feed, the sitemap and the static files, each only when it changed."""

    name = "web"
    description = "Web edition: a page per edition, front page, archive by month, Atom, sitemap"

    class Options(BaseOptions):
        feed_limit: int = Field(10, ge=1, le=500)
        """How many of the latest editions the feed carries (with their full content)."""
        recent: int = Field(10, ge=0, le=500)
        """How many recent editions the front page lists (the archive page lists all)."""
        incremental: bool = True
        """Render only the pages whose content changed; false renders every page each time."""

    options: Options

    def render(self, edition: Edition, ctx: RenderContext) -> list[Path]:
        builder = SiteBuilder(
            ctx,
            environment(ctx),
            feed_limit=self.options.feed_limit,
            recent=self.options.recent,
            incremental=self.options.incremental,
        )
        return builder.build(edition).written
