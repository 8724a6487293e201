"""Sanitizing untrusted content where it enters the edition.

Feeds, plugins and language models all produce untrusted text. The pipeline calls
:func:`sanitize_edition` once, after every source, filter and section plugin has run, and
:func:`newsroom.core.model.load_edition` calls it again on every ``edition.json`` it reads, so a
theme only ever sees cleaned values:

- HTML fields keep a small allowlist of inline and block tags (nh3/ammonia), every link made
  absolute against the item's URL and restricted to http(s)/mailto, every other attribute
  dropped;
- text fields (titles, authors, tags ...) lose any markup and become plain text, which Jinja's
  autoescape then escapes;
- URL fields that are not absolute http(s) URLs are dropped (or, for an item's own link, the
  item is dropped).

Themes mark HTML fields safe with the ``|html`` filter, which re-checks that the value came
through here (:class:`SafeHTML`); a plain ``str`` is escaped instead.
"""

from __future__ import annotations

import html
import re
from functools import partial
from pathlib import Path
from typing import Any

import nh3
from markupsafe import Markup

from newsroom.core.errors import BuildError
from newsroom.core.model import Edition, Item, ItemSource, Section
from newsroom.core.urls import absolute_url, is_safe_url, without_tracking

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "del",
        "em",
        "i",
        "kbd",
        "li",
        "mark",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "small",
        "strong",
        "sub",
        "sup",
        "u",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})


# C0/C1 control characters (but tab, newline, carriage return) and lone surrogates: sloppy
# feeds carry them, XML cannot hold them, and a lone surrogate cannot even be encoded.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def strip_bad_chars(value: str) -> str:
    """``value`` without control characters and lone surrogates."""
    return _BAD_CHARS.sub("", value)


class SafeHTML(Markup):
    """HTML that went through :func:`clean_html`. Only this module creates it."""

    __slots__ = ()


def _absolute_links(base: str | None, element: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        if value.startswith("mailto:"):
            return value
        return link_url(value, base)
    return value


def link_url(url: str | None, base: str | None) -> str | None:
    """``url`` made absolute against ``base``, without the query parameters that only track
    the reader (``utm_*``, ``fbclid`` ...: :func:`newsroom.core.urls.without_tracking`), or
    ``None`` when it is not a safe http(s) URL. Every link an edition shows goes through it."""
    resolved = absolute_url(url, base)
    return without_tracking(resolved) if resolved is not None else None


def clean_html(value: str | None, *, base_url: str | None = None) -> SafeHTML:
    """Return ``value`` with only allowlisted tags and attributes, links made absolute."""
    if not value:
        return SafeHTML("")
    cleaned = nh3.clean(
        strip_bad_chars(str(value)),
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        attribute_filter=partial(_absolute_links, base_url),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return SafeHTML(cleaned.strip())


def clean_text(value: str | None) -> str:
    """Return ``value`` as plain text: markup removed, entities decoded, whitespace folded."""
    if not value:
        return ""
    text = strip_bad_chars(str(value))
    if "<" in text or "&" in text:
        text = html.unescape(nh3.clean(text, tags=set(), strip_comments=True))
    return " ".join(text.split())


def html_to_text(value: str | None) -> str:
    """Plain-text rendering of sanitized HTML for the text part of an email."""
    if not value:
        return ""
    spaced = (
        str(value)
        .replace("<br>", "\n")
        .replace("</p>", "\n\n")
        .replace("<li>", "\n- ")
        .replace("</li>", "")
    )
    text = html.unescape(nh3.clean(spaced, tags=set(), strip_comments=True))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def _clean_strs(values: list[str]) -> list[str]:
    return [t for t in (clean_text(v) for v in values) if t]


def sanitize_item(item: Item) -> Item | None:
    """A cleaned copy of ``item``, or ``None`` when its own link is not a safe URL."""
    url = link_url(item.url, None)
    if url is None:
        return None
    image = absolute_url(item.image, url)
    links = {clean_text(k): u for k, v in item.links.items() if (u := link_url(v, url))}
    sources = [clean for source in item.sources if (clean := _sanitize_source(source, url))]
    return item.model_copy(
        update={
            "url": url,
            "title": clean_text(item.title) or url,
            "summary": clean_html(item.summary, base_url=url),
            "kind": clean_text(item.kind) or "article",
            "publisher": clean_text(item.publisher) or None,
            "authors": _clean_strs(item.authors),
            "tags": _clean_strs(item.tags),
            "image": image,
            "links": links,
            "sources": sources,
            "original_title": clean_text(item.original_title) or None,
            "section": clean_text(item.section) or None,
            "fields": {
                name: html
                for key, value in item.fields.items()
                if (name := clean_text(key)) and (html := clean_html(value, base_url=url))
            },
            "extra": _clean_extra(item.extra),
        }
    )


def _sanitize_source(source: ItemSource, base: str) -> ItemSource | None:
    """A cleaned copy of one of a merged item's sources; None without a safe link."""
    url = link_url(source.url, base)
    if url is None:
        return None
    return source.model_copy(
        update={
            "source": clean_text(source.source),
            "url": url,
            "kind": clean_text(source.kind) or "article",
            "publisher": clean_text(source.publisher) or None,
            "title": clean_text(source.title),
            "links": {clean_text(k): u for k, v in source.links.items() if (u := link_url(v, url))},
            "extra": _clean_extra(source.extra),
        }
    )


def _clean_extra(value: Any) -> Any:
    """Extra values reach templates too: strings in them lose their markup."""
    if isinstance(value, str):
        return clean_text(value) if ("<" in value or "&" in value) else value
    if isinstance(value, dict):
        return {str(k): _clean_extra(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_extra(v) for v in value]
    return value


def sanitize_section(section: Section) -> Section:
    """A cleaned copy of ``section``; items without a safe link are dropped."""
    items = [clean for item in section.items if (clean := sanitize_item(item)) is not None]
    return section.model_copy(
        update={
            "id": clean_text(section.id),
            "title": clean_text(section.title),
            "intro": clean_html(section.intro),
            "items": items,
        }
    )


def sanitize_edition(edition: Edition) -> Edition:
    """A copy of ``edition`` with every text, HTML and URL field cleaned."""
    base = edition.newsletter.base_url
    newsletter = edition.newsletter.model_copy(
        update={
            "title": clean_text(edition.newsletter.title),
            "description": clean_text(edition.newsletter.description),
            "author": clean_text(edition.newsletter.author),
            "base_url": base if is_safe_url(base) else "",
        }
    )
    return edition.model_copy(
        update={
            "title": clean_text(edition.title),
            "subject": clean_text(edition.subject),
            "newsletter": newsletter,
            "intro": clean_html(edition.intro),
            "insight": clean_html(edition.insight),
            "sections": [sanitize_section(s) for s in edition.sections],
            "categories": _clean_strs(edition.categories),
            "tags": _clean_strs(edition.tags),
            "warnings": [
                w.model_copy(update={"message": clean_text(w.message)}) for w in edition.warnings
            ],
        }
    )


def html_filter(value: Any) -> Markup:
    """Jinja filter ``|html``: render a sanitized HTML field; anything else is escaped.

    Only :class:`SafeHTML` produced by this module passes through as markup, so a theme
    cannot render a raw string from a feed by mistake.
    """
    if isinstance(value, SafeHTML):
        return value
    return Markup.escape(value if value is not None else "")


def load_edition(path: Path) -> Edition:
    """Read an ``edition.json`` and sanitize it: files on disk are as untrusted as feeds."""
    from pydantic import ValidationError

    try:
        edition = Edition.from_json(path.read_bytes())
    except OSError as exc:
        raise BuildError(f"{path}: cannot read it: {exc.strerror}") from None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(file)"
        raise BuildError(
            f"{path}: not a valid edition ({exc.error_count()} problem(s); first: {where}: "
            f"{first['msg']})"
        ) from None
    return sanitize_edition(edition)
