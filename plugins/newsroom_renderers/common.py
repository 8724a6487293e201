"""What the renderers share: template variables, item helpers and writing files."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache, partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal

from newsroom import Edition, Item, RenderContext
from newsroom.core.sanitize import html_to_text
from newsroom.core.urls import same_page
from newsroom.render.environment import load_translations

from .filters import install_filters
from .labels import ET_AL, METRIC_LABELS, Messages
from .plaintext import References

#: Characters XML 1.0 forbids and HTML treats as errors, and lone surrogates (not encodable,
#: so MJML and css-inline would refuse the text): feeds and files must not carry them.
_INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def template_variables(
    edition: Edition, fmt: str, ctx: RenderContext, **extra: Any
) -> dict[str, Any]:
    """The core's variables for ``fmt`` plus the helpers the default theme uses.

    Variables a plugin returned from ``extra_template_vars`` win over these helpers;
    ``extra`` (the renderer's own) wins over all. UI words come from the theme's gettext
    catalogs (``_()`` in templates, :class:`.labels.Messages` here).
    """
    values = ctx.variables(edition, fmt)
    t = Messages(load_translations(ctx.theme, edition.language))
    settings = values.get("settings", ctx.theme_settings)
    helpers: dict[str, Any] = {
        # The editor's (or a model's) subject for this edition, else its title.
        "subject": edition.subject or edition.title,
        "preheader": preheader(edition),
        "text_direction": text_direction(edition.language),
        "insight_title": settings.get("insight_title") or t.gettext("Editor's insight"),
        "item_meta": partial(item_meta, t=t, edition=edition, settings=settings),
        "item_links": partial(item_links, t=t),
        "item_count": item_count_text(edition, t),
        "references": References,
    }
    for key, value in helpers.items():
        values.setdefault(key, value)
    values.update(extra)
    return values


def environment(ctx: RenderContext) -> jinja2.Environment:
    """``ctx.jinja`` with this plugin's filters (also added by its Jinja hook)."""
    install_filters(ctx.jinja)
    return ctx.jinja


def text_direction(language: str) -> str:
    """``ltr`` or ``rtl`` for ``language`` (for ``<html dir>``)."""
    try:
        order = Locale.parse(language.replace("-", "_")).character_order
    except (UnknownLocaleError, ValueError):
        return "ltr"
    return "rtl" if order == "right-to-left" else "ltr"


def preheader(edition: Edition, limit: int = 140) -> str:
    """The inbox preview line: ``extra["preheader"]``, else the intro, else the first titles."""
    custom = edition.extra.get("preheader")
    if isinstance(custom, str) and custom.strip():
        text = custom
    elif edition.intro:
        text = html_to_text(edition.intro)
    else:
        text = " · ".join(item.title for item in edition.items[:3])
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def item_count_text(edition: Edition, t: Messages) -> str:
    n = len(edition.items)
    return t.ngettext("%(num)d item", "%(num)d items", n) % {"num": n}


def item_meta(item: Item, *, t: Messages, edition: Edition, settings: dict[str, Any]) -> list[str]:
    """The parts of an item's muted source line: publisher (every source's, for a story
    several reported: "arXiv · HF Daily Papers · GitHub"), authors, date, metrics.

    Plain strings; each format joins and escapes them its own way.
    """
    locale = edition.language.replace("-", "_")
    parts: list[str] = []
    publishers = [s.publisher or s.source for s in item.sources] if item.sources else []
    parts.extend(name for name in dict.fromkeys([item.publisher or "", *publishers]) if name)
    if item.authors:
        names = ", ".join(item.authors[:2])
        parts.append(f"{names} {t.gettext(ET_AL)}" if len(item.authors) > 2 else names)
    if item.published:
        # The reader's calendar day, not the feed's.
        day = item.published.astimezone(_zone(edition)).date()
        parts.append(_format_day(day, settings.get("item_date_format", "medium"), locale))
    parts.extend(item_metrics(item, t, locale))
    return parts


# Babel parses the locale's patterns on every call; an edition repeats few dates and numbers,
# and every format (email, text, web, feed, markdown) prints them again.
@lru_cache(maxsize=2048)
def _format_day(day: dt.date, fmt: str, locale: str) -> str:
    # No-break spaces: "2026. 2. 13." or "Feb 13, 2026" is never split over two lines on a
    # narrow screen or in the wrapped text part.
    return str(format_date(day, format=fmt, locale=locale)).replace(" ", "\u00a0")


@lru_cache(maxsize=2048)
def _format_number(value: float, locale: str) -> str:
    return str(format_decimal(int(value) if float(value).is_integer() else value, locale=locale))


def item_metrics(item: Item, t: Messages, locale: str) -> list[str]:
    """Every count the item's sources reported, labelled in the edition's language; for a
    story several sources reported, each source's own, named when two give the same kind
    of count ("댓글 6개 (HF Daily Papers)")."""
    if not item.sources:
        return _metrics(item.metrics, item.extra.get("since"), t, locale)
    out: list[str] = []
    shown: set[str] = set()
    repeated = _repeated_metrics(item)
    for source in item.sources:
        name = source.publisher or source.source
        for key, text in _labelled(source.metrics, source.extra.get("since"), t, locale):
            out.append(t.from_source(text, name) if key in repeated else text)
            shown.add(key)
        if "stars" in source.metrics:
            shown.add("stars_period")  # shown with the stars
    # Counts a later filter added to the item itself.
    rest = {k: v for k, v in item.metrics.items() if k not in shown}
    out.extend(_metrics(rest, item.extra.get("since"), t, locale))
    return out


def _repeated_metrics(item: Item) -> set[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for source in item.sources:
        for key in source.metrics:
            if key == "stars_period":
                continue
            (repeated if key in seen else seen).add(key)
    return repeated


def _metrics(metrics: dict[str, float], since: Any, t: Messages, locale: str) -> list[str]:
    return [text for _, text in _labelled(metrics, since, t, locale)]


def _labelled(
    metrics: dict[str, float], since: Any, t: Messages, locale: str
) -> list[tuple[str, str]]:
    """``(metric, label)`` pairs: the labelled metrics first, in their order, then any
    other by its name; stars gained in the source's period go with the stars."""

    def num(value: float) -> str:
        return _format_number(value, locale)

    out: list[tuple[str, str]] = []
    keys = [k for k in METRIC_LABELS if k in metrics]
    keys += [k for k in metrics if k not in METRIC_LABELS and k != "stars_period"]
    for key in keys:
        text = t.metric(key, metrics[key], num(metrics[key]))
        if key == "stars" and metrics.get("stars_period"):
            text += f" ({t.period(since, num(metrics['stars_period']))})"
        out.append((key, text))
    if metrics.get("stars_period") and "stars" not in metrics:
        out.append(("stars_period", t.period(since, num(metrics["stars_period"]))))
    return out


def item_links(item: Item, *, t: Messages) -> list[tuple[str, str]]:
    """The link row: ``(label, url)`` for the item itself (labelled by what it is: paper,
    article, discussion ...), then its further links, then those of the story's other
    sources; each page once, a label two sources share followed by the source's name."""
    row: list[tuple[str, str]] = []
    pages: set[str] = set()
    labels: set[str] = set()

    def add(label: str, url: str, source: str | None) -> None:
        page = same_page(url)
        if page in pages:
            return
        pages.add(page)
        if label in labels and source:
            label = t.from_source(label, source)
        labels.add(label)
        row.append((label, url))

    add(t.kind_label(item.link_kind), item.url, item.publisher)
    if item.sources:
        for source in item.sources:
            name = source.publisher or source.source
            add(t.kind_label(source.kind), source.url, name)
            for key, url in source.links.items():
                add(t.link_label(key), url, name)
    for key, url in item.links.items():
        add(t.link_label(key), url, item.publisher)
    return row


def _zone(edition: Edition) -> ZoneInfo:
    try:
        return ZoneInfo(edition.newsletter.timezone)
    except (ValueError, KeyError):
        return ZoneInfo("UTC")


def local_time(edition: Edition) -> dt.datetime:
    """When the edition was generated, in the newsletter's time zone, on the edition's date.

    A rebuilt or back-dated edition keeps its own date (Jekyll derives the URL from it).
    """
    zone = _zone(edition)
    when = edition.generated_at
    if when.tzinfo is None:  # a hand-written edition.json: take it as UTC, like Item.published
        when = when.replace(tzinfo=dt.UTC)
    when = when.astimezone(zone)
    if when.date() != edition.date:
        when = dt.datetime.combine(edition.date, dt.time(0, 0), tzinfo=zone)
    return when


def clean_output(text: str) -> str:
    """``text`` without characters XML forbids and lone surrogates (from sloppy feeds)."""
    return _INVALID_CHARS.sub("", text)


def write(path: Path, text: str) -> Path:
    """Write UTF-8 ``text`` atomically, so a web server never serves half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(clean_output(text), encoding="utf-8", newline="\n")
    tmp.replace(path)
    return path


def write_together(files: dict[Path, str]) -> list[Path]:
    """Write several files as :func:`write` does, all of them under temporary names first,
    then renamed one after the other: files read together change together."""
    written = []
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(clean_output(text), encoding="utf-8", newline="\n")
        written.append((tmp, path))
    for tmp, path in written:
        tmp.replace(path)
    return [path for _, path in written]


def write_if_changed(path: Path, text: str) -> bool:
    """Write ``text`` unless the file already holds exactly it; whether it was written.

    Unchanged files keep their modification time, so rsync, a git commit or a web server's
    caches see only what really changed.
    """
    data = clean_output(text).encode("utf-8")
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return True
