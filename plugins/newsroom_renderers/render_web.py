"""The ``web`` renderer: the web edition in ``<output>/site/``.

::

    site/index.html                 the latest edition and the archive
    site/editions/<id>/index.html   one page per edition, sections as #anchors
    site/feed.xml                   Atom feed of the latest editions
    site/static/                    the theme's static files (parents first)

The archive is every ``<output>/editions/*/edition.json`` (see :mod:`.archive`).
Links between pages are relative and name ``index.html``, so the folder works opened
from disk (``file://``) and published under any path; the feed's links are absolute when
``base_url`` is set (feed readers need them), relative otherwise.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from markupsafe import Markup
from pydantic import Field

from newsroom import Edition, RenderContext, Renderer
from newsroom import Options as BaseOptions

from .archive import ArchivedEdition, load_archive
from .common import environment, template_variables, write

BODY = "web/_edition_body.html.j2"
FEED = "web/feed.xml.j2"


class WebRenderer(Renderer):
    """Write the edition's page, the index with the archive, the Atom feed and static files."""

    name = "web"
    description = "Web edition: a page per edition, index with archive, Atom feed"

    class Options(BaseOptions):
        feed_limit: int = Field(10, ge=1, le=500)
        """How many of the latest editions the feed carries (with their full content)."""

    options: Options

    def render(self, edition: Edition, ctx: RenderContext) -> list[Path]:
        env = environment(ctx)
        site = ctx.site_dir
        archive = load_archive(ctx.site_dir.parent / "editions", edition, ctx)
        latest = archive[0].edition()
        entries = [entry.edition() for entry in archive[: self.options.feed_limit]]
        # Each edition's content is rendered once and shown on its page, on the index and
        # in the feed.
        bodies: dict[str, Markup] = {}
        for ed in (edition, latest, *entries):
            if ed.id not in bodies:
                html = env.get_template(BODY).render(template_variables(ed, "web", ctx))
                bodies[ed.id] = Markup(html)

        def page(ed: Edition, template: str, root: str, **extra: Any) -> str:
            values = template_variables(
                ed,
                "web",
                ctx,
                root=root,
                body=bodies[ed.id],
                archive=archive,
                page_url=page_url,
                **extra,
            )
            return env.get_template(template).render(values)

        written = copy_static(ctx, site / "static")
        written.append(
            write(
                site / "editions" / edition.id / "index.html",
                page(
                    edition,
                    "web/edition.html.j2",
                    "../../",
                    canonical=_absolute(ctx, edition),
                    link_title=False,
                ),
            )
        )
        written.append(
            write(
                site / "index.html",
                page(latest, "web/index.html.j2", "", canonical=ctx.base_url, link_title=True),
            )
        )
        feed = template_variables(
            latest,
            "feed",
            ctx,
            entries=entries,
            bodies=bodies,
            feed_id=feed_id(latest),
            entry_id=entry_id,
            entry_link=lambda ed: _absolute(ctx, ed) or page_url(ed),
        )
        written.append(write(site / "feed.xml", env.get_template(FEED).render(feed)))
        return written


def page_url(edition: Edition | ArchivedEdition, root: str = "") -> str:
    """Relative link to an edition's page from a page ``root`` levels below the site."""
    return f"{root}editions/{quote(edition.id)}/index.html"


def _absolute(ctx: RenderContext, edition: Edition) -> str:
    return f"{ctx.base_url}editions/{quote(edition.id)}/" if ctx.base_url else ""


def feed_id(edition: Edition) -> str:
    """A stable Atom id for the newsletter: it must not change when base_url does."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"newsroom:{edition.newsletter.title}").urn


def entry_id(edition: Edition) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"newsroom:{edition.newsletter.title}/{edition.id}").urn


def copy_static(ctx: RenderContext, target: Path) -> list[Path]:
    """Copy the theme chain's ``static/`` folders, parents first so a child's file wins."""
    written: list[Path] = []
    for folder in ctx.theme.static_dirs:
        shutil.copytree(folder, target, dirs_exist_ok=True)
        written.extend(target / p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    return list(dict.fromkeys(written))
