"""The ``web`` renderer: the web edition in ``<output>/site/``.

::

    site/index.html                 the latest edition and the archive
    site/editions/<id>/index.html   one page per edition, sections as #anchors
    site/feed.xml                   Atom feed of the latest editions
    site/static/                    the theme's static files (parents first)

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

from pydantic import Field, ValidationError

from newsroom import Edition, Options, RenderContext, Renderer
from newsroom.model import load_edition

from .common import SAFE_ID, check_id, environment, template_variables, write


class WebRenderer(Renderer):
    """Write the edition's page, the index with the archive, the Atom feed and static files."""

    name = "web"
    description = "Web edition: a page per edition, index with archive, Atom feed"

    class Options(Options):
        feed_limit: int = Field(20, ge=1, le=500)
        """How many of the latest editions the feed carries."""

    def render(self, edition: Edition, ctx: RenderContext) -> list[Path]:
        check_id(edition)
        env = environment(ctx)
        site = ctx.site_dir
        archive = load_archive(ctx.site_dir.parent / "editions", edition, ctx)
        written = copy_static(ctx, site / "static")

        def page(ed: Edition, template: str, root: str, **extra: Any) -> str:
            values = template_variables(
                ed, "web", ctx, root=root, archive=archive, page_url=page_url,
                canonical=_absolute(ctx, ed) if template.endswith("edition.html.j2") else "",
                **extra,
            )
            return env.get_template(template).render(values)

        written.append(write(
            site / "editions" / edition.id / "index.html",
            page(edition, "web/edition.html.j2", "../../", level=1),
        ))
        latest = archive[0]
        written.append(write(
            site / "index.html",
            page(latest, "web/index.html.j2", "", level=2, canonical_home=ctx.base_url),
        ))
        feed_vars = template_variables(
            latest, "feed", ctx, entries=archive[: self.options.feed_limit],
            page_url=page_url, entry_link=lambda ed: _absolute(ctx, ed) or page_url(ed, ""),
            entry_id=entry_id, feed_id=feed_id(latest), level=1, root="",
        )
        written.append(write(site / "feed.xml", env.get_template("web/feed.xml.j2").render(feed_vars)))
        return written


def page_url(edition: Edition, root: str = "") -> str:
    """Relative link to an edition's page from a page ``root`` levels below the site."""
    return f"{root}editions/{quote(edition.id)}/index.html"


def _absolute(ctx: RenderContext, edition: Edition) -> str:
    return f"{ctx.base_url}editions/{quote(edition.id)}/" if ctx.base_url else ""


def feed_id(edition: Edition) -> str:
    """A stable Atom id for the newsletter: it must not change when base_url does."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"newsroom:{edition.newsletter.title}").urn


def entry_id(edition: Edition) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"newsroom:{edition.newsletter.title}/{edition.id}").urn


def load_archive(folder: Path, current: Edition, ctx: RenderContext) -> list[Edition]:
    """Every edition under ``folder/*/edition.json`` plus ``current``, newest first.

    Files are read with :func:`load_edition` (sanitized again: disk is untrusted); one that
    cannot be read is skipped with a warning rather than failing the current edition.
    """
    editions = {current.id: current}
    for path in sorted(folder.glob("*/edition.json")) if folder.is_dir() else []:
        try:
            ed = load_edition(path)
        except (OSError, ValueError, ValidationError) as exc:
            ctx.log.warning("web: skipping %s: %s", path, exc)
            continue
        if ed.id != current.id and SAFE_ID.match(ed.id):
            editions[ed.id] = ed
    return sorted(editions.values(), key=lambda e: (e.date, e.generated_at, e.id), reverse=True)


def copy_static(ctx: RenderContext, target: Path) -> list[Path]:
    """Copy the theme chain's ``static/`` folders, parents first so a child's file wins."""
    written: list[Path] = []
    for folder in ctx.theme.static_dirs:
        shutil.copytree(folder, target, dirs_exist_ok=True)
        written.extend(target / p.relative_to(folder) for p in folder.rglob("*") if p.is_file())
    return list(dict.fromkeys(written))
