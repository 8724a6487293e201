"""feedparser's names for XML elements: ``{namespace}localName`` becomes ``title``,
``dc:creator``, ``media:thumbnail`` ..., whatever prefix the document chose, and case-folded
as feedparser matches names.

Apart because it is a vocabulary (which namespace belongs to which dialect), not a rule of
reading: the fast path's dispatch table and its checks of the root element are keyed on it.
"""

from __future__ import annotations

from typing import Any

_ATOM = "http://www.w3.org/2005/Atom"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDF_ABOUT = f"{{{_RDF}}}about"

# Namespaces -> feedparser's prefixes ("" = the core vocabulary, whatever the dialect).
_PREFIXES = {
    "": "",
    "http://backend.userland.com/rss": "",
    "http://blogs.law.harvard.edu/tech/rss": "",
    "http://purl.org/rss/1.0/": "",
    "http://my.netscape.com/rdf/simple/0.9/": "",
    "http://purl.org/atom/ns#": "",
    "http://www.w3.org/2005/atom": "",
    "http://purl.org/rss/1.0/modules/rss091#": "",
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://purl.org/dc/terms/": "dcterms",
    "http://search.yahoo.com/mrss/": "media",
    "http://search.yahoo.com/mrss": "media",
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
    "http://www.w3.org/1999/xhtml": "xhtml",
    _RDF: "rdf",
}
_KEYS: dict[str, str | None] = {}


def _key(tag: Any) -> str | None:
    """``{ns}localName`` -> feedparser's name for it (``"title"``, ``"dc:creator"``), or None.

    feedparser matches names case-insensitively, so ``pubDate`` and ``pubdate`` are one key.
    """
    try:
        return _KEYS[tag]
    except KeyError:
        pass
    except TypeError:  # not a string: a comment or processing instruction
        return None
    if not isinstance(tag, str):
        return None
    namespace, _, local = tag[1:].rpartition("}") if tag.startswith("{") else ("", "", tag)
    lowered = namespace.lower()
    prefix = "" if "backend.userland.com/rss" in lowered else _PREFIXES.get(lowered)
    key = None if prefix is None else (f"{prefix}:{local.lower()}" if prefix else local.lower())
    if len(_KEYS) < 10_000:  # a hostile feed cannot grow the cache without bound
        _KEYS[tag] = key
    return key
