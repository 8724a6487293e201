"""Building the web edition's site incrementally.

::

    site/index.html                 the latest edition and the most recent ones
    site/archive/index.html         every edition, grouped by month
    site/editions/<id>/index.html   one page per edition, sections as #anchors
    site/feed.xml                   Atom feed of the latest editions
    site/sitemap.xml                every page (only with base_url: sitemaps are absolute)
    site/static/                    the theme's static files (parents first)

Each page is rendered again only when what it shows changed: its edition (a hash of the
file), its neighbours (the previous/next links), or the look (a hash of every template,
catalog and setting, kept as the *theme key*). The keys of the pages on disk, and the static
files copied, are kept in ``<output>/.site-state.json``, outside the published folder: the
pages of editions that are gone and the static files of a former theme are removed, whatever
the look or a full build renders again. The pages that list editions
(front page, archive, feed, sitemap) are rendered each time and written only when they
differ, so adding one edition to an archive of a thousand rewrites six files.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from newsroom import Edition, RenderContext
from newsroom.__about__ import __version__
from newsroom.core.errors import BuildError
from newsroom.core.urls import edition_path, edition_url
from newsroom.render.safe_folder import SafeFolder, UnsafePath
from newsroom.render.themes import theme_files

from .archive import ArchivedEdition, load_archive
from .common import template_variables, write_if_changed

BODY = "web/_edition_body.html.j2"
PAGE = "web/edition.html.j2"
INDEX = "web/index.html.j2"
ARCHIVE = "web/archive.html.j2"
FEED = "web/feed.xml.j2"
SITEMAP = "web/sitemap.xml.j2"
STATE_FILE = ".site-state.json"
STATE_VERSION = 1


@dataclass
class Month:
    """One month of the archive page."""

    id: str
    """``2026-02``: the month's anchor on the archive page."""
    day: Any
    """Its first day (a date), for ``|month``."""
    editions: list[ArchivedEdition] = field(default_factory=list)


@dataclass
class SiteResult:
    written: list[Path]
    rendered_pages: int
    removed: list[Path]


def page_url(edition: Edition | ArchivedEdition, root: str = "") -> str:
    """Relative link to an edition's page from a page ``root`` levels below the site.

    It names ``index.html``, so the folder works opened from disk (``file://``) too.
    """
    return f"{root}{edition_path(edition.id)}index.html"


def absolute_url(base_url: str, edition: Edition | ArchivedEdition) -> str:
    return edition_url(base_url, edition.id)


def _hash(*parts: Any) -> str:
    data = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:24]


def theme_key(ctx: RenderContext, options: dict[str, Any]) -> str:
    """A hash of everything that shapes every page: templates, catalogs, settings, the
    newsroom version, the base URL and the renderer's options."""
    digest = hashlib.sha256(f"{__version__}\0{ctx.base_url}".encode())
    digest.update(json.dumps([ctx.theme_settings, options], sort_keys=True, default=str).encode())
    for theme in ctx.theme.chain:
        digest.update(f"\0theme {theme.name} {theme.path}".encode())
        for sub in ("templates", "locale"):
            for rel, path in theme_files(theme.path, theme.path / sub):
                if not rel.endswith((".mo", ".pyc")):
                    digest.update(f"\0{sub}/{rel}\0".encode())
                    digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


class SiteBuilder:
    """Brings ``ctx.site_dir`` up to date with the editions on disk and ``current``."""

    def __init__(
        self,
        ctx: RenderContext,
        env: jinja2.Environment,
        *,
        feed_limit: int,
        recent: int,
        incremental: bool,
    ) -> None:
        self.ctx = ctx
        self.env = env
        self.feed_limit = feed_limit
        self.recent = recent
        self.incremental = incremental
        self.site = ctx.site_dir
        self.state_path = ctx.site_dir.parent / STATE_FILE
        self._bodies: dict[str, Markup] = {}

    # -- state -------------------------------------------------------------------------

    def _load_state(self) -> dict[str, Any]:
        empty: dict[str, Any] = {"version": STATE_VERSION, "editions": {}, "pages": {}}
        try:
            state = json.loads(self.state_path.read_text("utf-8"))
        except (OSError, ValueError):
            return empty
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            return empty
        return state

    def _save_state(self, state: dict[str, Any]) -> None:
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False), "utf-8")
        tmp.replace(self.state_path)

    # -- rendering ---------------------------------------------------------------------

    def body(self, entry: ArchivedEdition) -> Markup:
        """An edition's content, rendered once per build and shown on its page, the front
        page and in the feed."""
        if entry.id not in self._bodies:
            edition = entry.edition()
            html = self.env.get_template(BODY).render(template_variables(edition, "web", self.ctx))
            self._bodies[entry.id] = Markup(html)
        return self._bodies[entry.id]

    def _page(self, edition: Edition, template: str, root: str, **extra: Any) -> str:
        values = template_variables(edition, "web", self.ctx, root=root, page_url=page_url, **extra)
        return self.env.get_template(template).render(values)

    def build(self, current: Edition | None) -> SiteResult:
        ctx = self.ctx
        options: dict[str, Any] = {"feed_limit": self.feed_limit, "recent": self.recent}
        if current is not None:
            # Where the pages' forms and links lead: a new subscription service is a new look.
            options["urls"] = ctx.variables(current, "web").get("urls", {})
        key = theme_key(ctx, options)
        state = self._load_state()
        archive, editions_state = load_archive(
            self.site.parent / "editions", current, ctx, state.get("editions")
        )
        # The pages on disk, whatever the look: those of editions that are gone are removed.
        old_pages: dict[str, str] = state.get("pages", {})
        # A new look (or a full build) renders every page again.
        same_look = self.incremental and state.get("theme_key") == key
        pages: dict[str, str] = {}
        static_dir = self.site / "static"
        written, static = copy_static(ctx.theme.static_dirs, static_dir)
        rendered = 0

        for i, entry in enumerate(archive):
            newer = archive[i - 1] if i > 0 else None
            older = archive[i + 1] if i + 1 < len(archive) else None
            rel = f"editions/{entry.id}/index.html"
            page_key = _hash(
                key,
                entry.source_key,
                [older.id, older.title] if older else None,
                [newer.id, newer.title] if newer else None,
            )
            pages[rel] = page_key
            target = self.site / rel
            if same_look and old_pages.get(rel) == page_key and target.is_file():
                continue
            html = self._page(
                entry.edition(),
                PAGE,
                "../../",
                body=self.body(entry),
                archive=archive,
                previous=older,
                next=newer,
                canonical=absolute_url(ctx.base_url, entry),
                link_title=False,
            )
            rendered += 1
            if write_if_changed(target, html):
                written.append(target)

        written.extend(self._listings(archive, key))
        removed = self._remove_stale(self.site, set(old_pages) - set(pages))
        old_static = state.get("static", [])
        removed.extend(self._remove_stale(static_dir, set(old_static) - set(static)))
        self._save_state(
            {
                "version": STATE_VERSION,
                "theme_key": key,
                "editions": editions_state,
                "pages": pages,
                "static": static,
            }
        )
        return SiteResult(written, rendered, removed)

    def _listings(self, archive: list[ArchivedEdition], key: str) -> list[Path]:
        """The front page, the archive page, the feed and the sitemap."""
        ctx = self.ctx
        written: list[Path] = []
        latest = archive[0] if archive else None

        def put(path: Path, text: str) -> None:
            if write_if_changed(path, text):
                written.append(path)

        if latest is None:
            return written
        edition = latest.edition()
        put(
            self.site / "index.html",
            self._page(
                edition,
                INDEX,
                "",
                body=self.body(latest),
                archive=archive,
                recent=archive[: self.recent],
                canonical=ctx.base_url,
                link_title=True,
            ),
        )
        put(
            self.site / "archive" / "index.html",
            self._page(edition, ARCHIVE, "../", archive=archive, months=group_by_month(archive)),
        )
        entries = archive[: self.feed_limit]
        feed = template_variables(
            edition,
            "feed",
            ctx,
            entries=[e.edition() for e in entries],
            bodies={e.id: self.body(e) for e in entries},
            feed_id=feed_id(edition),
            entry_id=entry_id,
            entry_link=lambda ed: absolute_url(ctx.base_url, ed) or page_url(ed),
        )
        put(self.site / "feed.xml", self.env.get_template(FEED).render(feed))
        sitemap = self.site / "sitemap.xml"
        if ctx.base_url:
            values = template_variables(
                edition,
                "sitemap",
                ctx,
                archive=archive,
                absolute_url=lambda ed: absolute_url(ctx.base_url, ed),
            )
            put(sitemap, self.env.get_template(SITEMAP).render(values))
        elif sitemap.exists():
            sitemap.unlink()  # a sitemap of relative links would be invalid
        return written

    def _remove_stale(self, folder: Path, files: Iterable[str]) -> list[Path]:
        """Files this builder wrote under ``folder`` before that the site no longer has: the
        pages of editions whose edition.json is gone, the static files of a former theme."""
        removed: list[Path] = []
        for rel in sorted(files):
            path = folder / rel
            if not path.resolve().is_relative_to(folder.resolve()) or not path.is_file():
                continue
            path.unlink()
            removed.append(path)
            parent = path.parent
            while parent != folder and parent.is_relative_to(folder):
                try:
                    parent.rmdir()
                except OSError:
                    break  # something else lives there
                parent = parent.parent
        return removed


def group_by_month(archive: list[ArchivedEdition]) -> list[Month]:
    months: list[Month] = []
    for entry in archive:
        mid = f"{entry.date.year:04d}-{entry.date.month:02d}"
        if not months or months[-1].id != mid:
            months.append(Month(mid, entry.date.replace(day=1)))
        months[-1].editions.append(entry)
    return months


def feed_id(edition: Edition) -> str:
    """A stable Atom id for the newsletter: it must not change when base_url does."""
    import uuid

    return uuid.uuid5(uuid.NAMESPACE_URL, f"newsroom:{edition.newsletter.title}").urn


def entry_id(edition: Edition) -> str:
    import uuid

    return uuid.uuid5(uuid.NAMESPACE_URL, f"newsroom:{edition.newsletter.title}/{edition.id}").urn


def copy_static(folders: list[Path], target: Path) -> tuple[list[Path], list[str]]:
    """Copy the theme chain's ``static/`` folders, parents first so a child's file wins;
    only files whose content differs are written. Returns the files written, and every
    file of the theme's (POSIX paths relative to ``target``).

    Each folder is a theme's ``static/``: a link in it may lead only to a file of the same
    theme, and is copied as a regular file; a link leading anywhere else stops the copy
    before anything is written, naming it. Nothing is written through a link in
    ``target``."""
    chosen: dict[str, Path] = {}
    for folder in folders:
        for rel, path in theme_files(folder.parent, folder):
            chosen[rel] = path
    written: list[Path] = []
    target.parent.mkdir(parents=True, exist_ok=True)
    # Opened from the site's folder, so a link in place of static/ itself is refused too.
    with SafeFolder(target.parent) as site:
        for rel, source in sorted(chosen.items()):
            name = f"{target.name}/{rel}"
            try:
                if site.same(name, source):
                    continue
                site.write(name, source)
            except UnsafePath as exc:
                raise BuildError(
                    f"{exc.path} is {exc.reason}: the theme's static files are never written "
                    "through a link; remove it and render again"
                ) from None
            written.append(target / rel)
    return written, sorted(chosen)
